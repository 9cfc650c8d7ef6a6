"""Team mailboxes over JSON (administrators): the email addresses tickets arrive at, their IMAP
settings, a connection test, and each team's sender name and acknowledgement template."""

from __future__ import annotations

from fastapi import APIRouter, Response

from closeloop.api.deps import AdminPrincipal, AppSettings, Uow, Via
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.email import mailboxes
from closeloop.channels.email.outbound import PLACEHOLDERS
from closeloop.channels.email.schemas import (
    ConnectionTestResult,
    EmailTemplateRead,
    EmailTemplateUpdate,
    MailboxCreate,
    MailboxRead,
    MailboxUpdate,
)

router = APIRouter(tags=["mailboxes"])


@router.get("/mailboxes", response_model=list[MailboxRead])
def list_mailboxes(uow: Uow, actor: AdminPrincipal) -> list[MailboxRead]:
    """Every team mailbox with its poll state. Passwords are never shown."""
    return [MailboxRead.of(m) for m in mailboxes.list_mailboxes(uow, actor=actor)]


@router.post("/mailboxes", status_code=201, response_model=MailboxRead)
def create_mailbox(
    data: MailboxCreate, uow: Uow, actor: AdminPrincipal, via: Via, settings: AppSettings
) -> MailboxRead:
    """Add a team address; with an IMAP server it is polled every minute."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    mailbox = mailboxes.create_mailbox(uow, data=data, cipher=cipher, actor=actor, via=via)
    uow.commit()
    return MailboxRead.of(mailbox)


@router.get("/mailboxes/{mailbox_id}", response_model=MailboxRead)
def get_mailbox(mailbox_id: int, uow: Uow, actor: AdminPrincipal) -> MailboxRead:
    return MailboxRead.of(mailboxes.get_mailbox(uow, mailbox_id=mailbox_id, actor=actor))


@router.patch("/mailboxes/{mailbox_id}", response_model=MailboxRead)
def update_mailbox(
    mailbox_id: int,
    data: MailboxUpdate,
    uow: Uow,
    actor: AdminPrincipal,
    via: Via,
    settings: AppSettings,
) -> MailboxRead:
    """Change the fields sent; ``"password": null`` removes the password."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    mailbox = mailboxes.update_mailbox(
        uow, mailbox_id=mailbox_id, data=data, cipher=cipher, actor=actor, via=via
    )
    uow.commit()
    return MailboxRead.of(mailbox)


@router.delete("/mailboxes/{mailbox_id}", status_code=204)
def delete_mailbox(mailbox_id: int, uow: Uow, actor: AdminPrincipal, via: Via) -> Response:
    mailboxes.delete_mailbox(uow, mailbox_id=mailbox_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post("/mailboxes/{mailbox_id}/test", response_model=ConnectionTestResult)
def test_mailbox(
    mailbox_id: int, uow: Uow, actor: AdminPrincipal, settings: AppSettings
) -> ConnectionTestResult:
    """Log in to the IMAP server and open the folder (read-only); changes nothing."""
    imap_settings = mailboxes.connection_settings(
        uow,
        mailbox_id=mailbox_id,
        cipher=channel_cipher(settings.secret_key.get_secret_value()),
        actor=actor,
        timeout=min(settings.imap_timeout_seconds, 15.0),
    )
    uow.rollback()  # no transaction (on SQLite: no write lock) while the server answers
    return mailboxes.test_connection(imap_settings)


@router.get("/teams/{team_id}/email-template", response_model=EmailTemplateRead)
def get_email_template(team_id: int, uow: Uow, actor: AdminPrincipal) -> EmailTemplateRead:
    """The team's sender name and acknowledgement template (empty fields: the defaults)."""
    row = mailboxes.get_template(uow, team_id=team_id, actor=actor)
    return EmailTemplateRead.of(team_id, row, list(PLACEHOLDERS))


@router.put("/teams/{team_id}/email-template", response_model=EmailTemplateRead)
def put_email_template(
    team_id: int, data: EmailTemplateUpdate, uow: Uow, actor: AdminPrincipal, via: Via
) -> EmailTemplateRead:
    row = mailboxes.update_template(uow, team_id=team_id, data=data, actor=actor, via=via)
    uow.commit()
    return EmailTemplateRead.of(team_id, row, list(PLACEHOLDERS))
