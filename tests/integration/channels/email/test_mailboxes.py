"""Team mailboxes: the password is kept encrypted and never shown, an address belongs to one
mailbox, a new server starts polling afresh, and the connection test talks to a real IMAP
server (Dovecot)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.models import Team
from closeloop.audit.models import AuditEvent
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.email import mailboxes
from closeloop.channels.email import tasks as email_tasks
from closeloop.channels.email.errors import MailboxAddressTaken
from closeloop.channels.email.models import EmailMailbox
from closeloop.channels.email.schemas import MailboxRead, MailboxUpdate
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.models import Ticket
from closeloop.wiring import email_context

from .conftest import SERVER_KEY, TEAM_ADDRESS, add_mailbox
from .dovecot import Dovecot
from .mail import customer_email

CIPHER = channel_cipher(SERVER_KEY)


def test_the_password_is_stored_encrypted_and_never_shown(
    uow: UnitOfWork, team: Team, dovecot: Dovecot
) -> None:
    mailbox = add_mailbox(uow, team, dovecot=dovecot, address="Support@Help.Example.CN")
    assert mailbox.address == TEAM_ADDRESS
    assert mailbox.password_encrypted is not None
    assert dovecot.password not in mailbox.password_encrypted
    assert CIPHER.decrypt(mailbox.password_encrypted) == dovecot.password
    shown = MailboxRead.of(mailbox).model_dump_json()
    assert dovecot.password not in shown
    assert mailbox.password_encrypted not in shown
    assert MailboxRead.of(mailbox).has_password is True
    trail = uow.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "email_mailbox"))
    assert all(dovecot.password not in str(entry.new_value) for entry in trail)


def test_an_address_belongs_to_one_mailbox(uow: UnitOfWork, team: Team) -> None:
    add_mailbox(uow, team)
    with pytest.raises(MailboxAddressTaken):
        add_mailbox(uow, team, address=TEAM_ADDRESS.upper())


def _poll_state(mailbox: EmailMailbox) -> tuple[int | None, int]:
    return mailbox.uidvalidity, mailbox.last_uid


def test_another_server_or_folder_starts_polling_afresh(uow: UnitOfWork, team: Team) -> None:
    mailbox = add_mailbox(uow, team)
    mailbox.uidvalidity, mailbox.last_uid = 77, 12
    mailboxes.update_mailbox(
        uow,
        mailbox_id=mailbox.id,
        data=MailboxUpdate(name="Support desk"),
        cipher=CIPHER,
        actor=SYSTEM,
        via="test",
    )
    assert _poll_state(mailbox) == (77, 12)
    mailboxes.update_mailbox(
        uow,
        mailbox_id=mailbox.id,
        data=MailboxUpdate(folder="Support"),
        cipher=CIPHER,
        actor=SYSTEM,
        via="test",
    )
    assert _poll_state(mailbox) == (None, 0)


def test_a_null_password_removes_it(uow: UnitOfWork, team: Team, dovecot: Dovecot) -> None:
    mailbox = add_mailbox(uow, team, dovecot=dovecot)
    mailboxes.update_mailbox(
        uow,
        mailbox_id=mailbox.id,
        data=MailboxUpdate.model_validate({"password": None}),
        cipher=CIPHER,
        actor=SYSTEM,
        via="test",
    )
    assert mailbox.password_encrypted is None


def test_the_connection_test_logs_in_to_the_real_server(
    make_uow: Callable[[], UnitOfWork], team: Team, dovecot: Dovecot
) -> None:
    dovecot.append(b"Subject: one\r\nMessage-ID: <one@x>\r\n\r\nhi\r\n")
    with make_uow() as uow:
        good = add_mailbox(uow, team, dovecot=dovecot)
        bad = add_mailbox(
            uow,
            team,
            dovecot=dovecot,
            address="sales@help.example.cn",
            password="wrong-password-123",
        )
        settings_good = mailboxes.connection_settings(
            uow, mailbox_id=good.id, cipher=CIPHER, actor=SYSTEM, timeout=5
        )
        settings_bad = mailboxes.connection_settings(
            uow, mailbox_id=bad.id, cipher=CIPHER, actor=SYSTEM, timeout=5
        )
    passed = mailboxes.test_connection(settings_good)
    assert (passed.ok, passed.messages) == (True, 1)
    failed = mailboxes.test_connection(settings_bad)
    assert failed.ok is False
    assert "wrong-password-123" not in failed.detail
    assert "AUTHENTICATIONFAILED" in failed.detail or "failed" in failed.detail.lower()


def test_the_connection_test_reports_an_unreachable_server(uow: UnitOfWork, team: Team) -> None:
    mailbox = add_mailbox(uow, team)
    mailbox.imap_host, mailbox.imap_port, mailbox.tls_mode = "127.0.0.1", 9, "none"
    settings = mailboxes.imap_settings(mailbox, CIPHER, timeout=2)
    result = mailboxes.test_connection(settings)
    assert result.ok is False
    assert "ConnectionRefused" in result.detail or "refused" in result.detail.lower()


def test_a_fetch_in_flight_when_the_server_changes_is_dropped(
    make_uow: Callable[[], UnitOfWork], team: Team, email_settings: Settings
) -> None:
    """The fetch read the old folder; had its finish step still counted, the old folder's
    UIDVALIDITY and UID would land on the new folder's fresh state (its first mail skipped)."""
    context = email_context(email_settings)
    with make_uow() as uow:
        mailbox = add_mailbox(uow, team)
        mailbox.imap_host, mailbox.uidvalidity, mailbox.last_uid = "old.example", 5, 40
        uow.commit()
        mailbox_id = mailbox.id
    with make_uow() as uow:
        plan = email_tasks.prepare_fetch(
            uow, {"mailbox_id": mailbox_id, "token": "in-flight"}, context=context
        )
        uow.commit()
    assert plan is not None
    with make_uow() as uow:
        mailboxes.update_mailbox(
            uow,
            mailbox_id=mailbox_id,
            data=MailboxUpdate(imap_host="new.example"),
            cipher=CIPHER,
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
    fetched = email_tasks.FetchOutcome(uidvalidity=5, uid=41, raw=customer_email())
    with make_uow() as uow:
        email_tasks.finish_fetch(uow, plan, fetched)
        uow.commit()
    with make_uow() as uow:
        after = uow.session.get(EmailMailbox, mailbox_id)
        assert after is not None
        assert _poll_state(after) == (None, 0)
        assert after.poll_token is None
        assert uow.session.scalars(select(Ticket)).all() == []


def test_the_connection_test_of_an_unreadable_password_says_so(uow: UnitOfWork, team: Team) -> None:
    mailbox = add_mailbox(uow, team)
    mailbox.imap_host = "imap.example"
    mailbox.password_encrypted = channel_cipher("another-server-key-of-enough-length").encrypt("pw")
    settings = mailboxes.connection_settings(
        uow, mailbox_id=mailbox.id, cipher=CIPHER, actor=SYSTEM, timeout=1
    )
    result = mailboxes.test_connection(settings)
    assert result.ok is False
    assert "cannot be decrypted" in result.detail
