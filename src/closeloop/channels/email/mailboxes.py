"""Team mailboxes (administrators): create, change, delete, test the IMAP connection; each
team's sender name and acknowledgement template; and the lookups intake and sending need."""

from __future__ import annotations

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Actor, Change
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.email import imap, repository
from closeloop.channels.email.errors import MailboxAddressTaken, MailboxNotFound
from closeloop.channels.email.models import EmailMailbox, EmailTeamSettings
from closeloop.channels.email.schemas import (
    ConnectionTestResult,
    EmailTemplateUpdate,
    MailboxCreate,
    MailboxUpdate,
)
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.kit.logging import get_logger

MAILBOX_ENTITY = "email_mailbox"
TEMPLATE_ENTITY = "email_team_settings"
# What admins read when the stored password no longer decrypts (a message, not a password).
UNREADABLE_PASSWORD_NOTE = (
    "the password cannot be decrypted (the server secret key changed): enter it again"  # noqa: S105
)
log = get_logger(__name__)


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _actor(actor: Principal) -> Actor:
    return Actor(type=actor.kind.value, id=actor.id, name=actor.name)


def normalise_address(address: str) -> str:
    return address.strip().lower()


# --- administration ---------------------------------------------------------------------------


def list_mailboxes(uow: UnitOfWork, *, actor: Principal) -> list[EmailMailbox]:
    _require_admin(actor)
    return list(repository.mailboxes(uow.session))


def get_mailbox(
    uow: UnitOfWork, *, mailbox_id: int, actor: Principal, for_update: bool = False
) -> EmailMailbox:
    _require_admin(actor)
    mailbox = repository.mailbox(uow.session, mailbox_id, for_update=for_update)
    if mailbox is None:
        raise MailboxNotFound(mailbox_id=mailbox_id)
    return mailbox


def _check_address_free(uow: UnitOfWork, address: str, mailbox_id: int | None) -> None:
    other = repository.mailbox_by_address(uow.session, address)
    if other is not None and other.id != mailbox_id:
        raise MailboxAddressTaken(address=address)


def create_mailbox(
    uow: UnitOfWork, *, data: MailboxCreate, cipher: SecretBox, actor: Principal, via: str
) -> EmailMailbox:
    _require_admin(actor)
    accounts.get_team(uow, data.team_id)
    address = normalise_address(data.address)
    _check_address_free(uow, address, None)
    password = data.password.get_secret_value() if data.password is not None else None
    now = uow.clock.now()
    mailbox = EmailMailbox(
        team_id=data.team_id,
        name=data.name,
        address=address,
        imap_host=data.imap_host,
        imap_port=data.imap_port,
        tls_mode=data.tls_mode.value,
        folder=data.folder,
        username=data.username,
        password_encrypted=cipher.encrypt(password) if password else None,
        is_active=data.is_active,
        mark_seen=data.mark_seen,
        last_uid=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(mailbox)
    uow.session.flush()
    audit.record(
        uow,
        entity_type=MAILBOX_ENTITY,
        entity_id=mailbox.id,
        action="email_mailbox.created",
        actor=_actor(actor),
        via=via,
        changes=[
            Change("team_id", None, mailbox.team_id),
            Change("name", None, mailbox.name),
            Change("address", None, mailbox.address),
            Change("imap", None, _imap_summary(mailbox)),
            Change("password", None, "set" if password else None),
            Change("is_active", None, mailbox.is_active),
        ],
        new_entity=True,
    )
    return mailbox


_PLAIN_FIELDS = ("name", "imap_host", "imap_port", "folder", "username", "is_active", "mark_seen")


def update_mailbox(
    uow: UnitOfWork,
    *,
    mailbox_id: int,
    data: MailboxUpdate,
    cipher: SecretBox,
    actor: Principal,
    via: str,
) -> EmailMailbox:
    """Change the fields present. A new server, folder or user starts polling afresh (the
    UID state belongs to the old one; messages taken already are recognised as duplicates)."""
    # Locked: a fetch job finishing meanwhile writes the same row (its UID state).
    mailbox = get_mailbox(uow, mailbox_id=mailbox_id, actor=actor, for_update=True)
    given = data.given()
    changes: list[Change] = []
    if "team_id" in given and given["team_id"] != mailbox.team_id:
        accounts.get_team(uow, given["team_id"])
        changes.append(Change("team_id", mailbox.team_id, given["team_id"]))
        mailbox.team_id = given["team_id"]
    if "address" in given:
        address = normalise_address(given["address"])
        if address != mailbox.address:
            _check_address_free(uow, address, mailbox.id)
            changes.append(Change("address", mailbox.address, address))
            mailbox.address = address
    if "tls_mode" in given and given["tls_mode"].value != mailbox.tls_mode:
        changes.append(Change("tls_mode", mailbox.tls_mode, given["tls_mode"].value))
        mailbox.tls_mode = given["tls_mode"].value
    for name in _PLAIN_FIELDS:
        if name in given and given[name] != getattr(mailbox, name):
            changes.append(Change(name, getattr(mailbox, name), given[name]))
            setattr(mailbox, name, given[name])
    if "password" in given:
        had = mailbox.password_encrypted is not None
        secret = given["password"].get_secret_value() if given["password"] is not None else ""
        mailbox.password_encrypted = cipher.encrypt(secret) if secret else None
        changes.append(Change("password", "set" if had else None, "set" if secret else None))
    if {c.field for c in changes} & {"imap_host", "imap_port", "folder", "username"}:
        mailbox.uidvalidity = None
        mailbox.last_uid = 0
        # A fetch in flight read the old folder: taking its lease away makes its finish step
        # drop what it fetched (it checks the token), instead of writing the old folder's
        # UIDVALIDITY and UID over the fresh state and so skipping the new folder's first mail.
        mailbox.poll_token = None
        mailbox.poll_locked_until = None
    if not changes:
        return mailbox
    mailbox.updated_at = uow.clock.now()
    uow.session.flush()
    audit.record(
        uow,
        entity_type=MAILBOX_ENTITY,
        entity_id=mailbox.id,
        action="email_mailbox.updated",
        actor=_actor(actor),
        via=via,
        changes=changes,
    )
    return mailbox


def delete_mailbox(uow: UnitOfWork, *, mailbox_id: int, actor: Principal, via: str) -> None:
    mailbox = get_mailbox(uow, mailbox_id=mailbox_id, actor=actor)
    audit.record(
        uow,
        entity_type=MAILBOX_ENTITY,
        entity_id=mailbox.id,
        action="email_mailbox.deleted",
        actor=_actor(actor),
        via=via,
        changes=[Change("address", mailbox.address, None)],
    )
    uow.session.delete(mailbox)
    uow.session.flush()


def imap_settings(
    mailbox: EmailMailbox, cipher: SecretBox, *, timeout: float = imap.DEFAULT_TIMEOUT_SECONDS
) -> imap.ImapSettings:
    """How to reach the mailbox; raises ``SecretUnreadable`` when the key changed."""
    password = cipher.decrypt(mailbox.password_encrypted) if mailbox.password_encrypted else ""
    return imap.ImapSettings(
        host=mailbox.imap_host,
        port=mailbox.imap_port,
        tls_mode=mailbox.tls_mode,
        username=mailbox.username,
        password=password,
        folder=mailbox.folder,
        timeout=timeout,
    )


def connection_settings(
    uow: UnitOfWork, *, mailbox_id: int, cipher: SecretBox, actor: Principal, timeout: float
) -> imap.ImapSettings | None:
    """What "test connection" uses (read in a transaction that ends before connecting).
    None when the stored password cannot be decrypted (the server key changed)."""
    mailbox = get_mailbox(uow, mailbox_id=mailbox_id, actor=actor)
    try:
        return imap_settings(mailbox, cipher, timeout=timeout)
    except SecretUnreadable:
        return None


def test_connection(settings: imap.ImapSettings | None) -> ConnectionTestResult:
    """Log in and open the folder read-only; no database access, nothing is changed.

    The host and port are the administrator's to choose: this connects wherever they say
    (only administrators may call it), and the answer says whether something listens there.
    """
    if settings is None:
        return ConnectionTestResult(ok=False, detail=UNREADABLE_PASSWORD_NOTE)
    if not settings.host:
        return ConnectionTestResult(ok=False, detail="no IMAP server is set for this mailbox")
    try:
        with imap.open_session(settings) as session:
            folder = session.select(settings.folder, readonly=True)
    except imap.ImapFailed as error:
        return ConnectionTestResult(ok=False, detail=str(error))
    return ConnectionTestResult(
        ok=True,
        detail=f"logged in; {settings.folder} has UIDVALIDITY {folder.uidvalidity}",
        messages=folder.exists,
    )


def _imap_summary(mailbox: EmailMailbox) -> str:
    if not mailbox.imap_host:
        return ""
    where = f"{mailbox.imap_host}:{mailbox.imap_port}/{mailbox.folder}"
    return f"{mailbox.username}@{where} ({mailbox.tls_mode})"


# --- the team's sender name and acknowledgement template --------------------------------------


def get_template(uow: UnitOfWork, *, team_id: int, actor: Principal) -> EmailTeamSettings | None:
    _require_admin(actor)
    accounts.get_team(uow, team_id)
    return repository.team_settings(uow.session, team_id)


def update_template(
    uow: UnitOfWork, *, team_id: int, data: EmailTemplateUpdate, actor: Principal, via: str
) -> EmailTeamSettings:
    _require_admin(actor)
    accounts.get_team(uow, team_id)
    row = repository.team_settings(uow.session, team_id)
    now = uow.clock.now()
    if row is None:
        row = EmailTeamSettings(team_id=team_id, updated_at=now)
        uow.session.add(row)
    changes: list[Change] = []
    for name, value in data.model_dump().items():
        old = getattr(row, name, None) or ""
        if value != old:
            changes.append(Change(name, old, value))
            setattr(row, name, value)
    row.updated_at = now
    uow.session.flush()
    if changes:
        audit.record(
            uow,
            entity_type=TEMPLATE_ENTITY,
            entity_id=team_id,
            action="email_template.updated",
            actor=_actor(actor),
            via=via,
            changes=changes,
        )
    return row


# --- lookups for intake and sending (no permission: the system's own work) -------------------


def mailbox_for_address(uow: UnitOfWork, address: str) -> EmailMailbox | None:
    """The active mailbox receiving mail for ``address``, if any."""
    found = repository.mailbox_by_address(uow.session, normalise_address(address))
    return found if found is not None and found.is_active else None


def our_addresses(uow: UnitOfWork) -> set[str]:
    """Every active mailbox address (the pipeline's "mail from ourselves" check)."""
    return set(repository.active_addresses(uow.session))
