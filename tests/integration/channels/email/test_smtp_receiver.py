"""`closeloop smtpd`'s handler on a real SMTP conversation (smtplib → aiosmtpd): mail for a
team address is stored and committed before 250; unknown recipients get 550, oversized
messages 552, a failure to store 451 with nothing kept."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from closeloop.accounts.models import Team
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, IngestOutcome, IngestResult
from closeloop.channels.email import smtpd
from closeloop.channels.email import tasks as email_tasks
from closeloop.channels.email.models import EmailMailbox
from closeloop.channels.models import InboundRecord
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.models import Message, Ticket
from closeloop.wiring import email_context

from .conftest import TEAM_ADDRESS, add_mailbox
from .dovecot import free_port
from .mail import customer_email

MAX_BYTES = 64 * 1024


class Receiver:
    def __init__(self, make_uow: Callable[[], UnitOfWork]) -> None:
        self.make_uow = make_uow
        self.results: list[IngestResult] = []
        self.fail_with: Exception | None = None

    def accepts(self, address: str) -> bool:
        with self.make_uow() as uow:
            return smtpd.accepts(uow, address)

    def store(self, raw: bytes, recipients: Sequence[str]) -> IngestResult:
        with self.make_uow() as uow:
            result = smtpd.store_message(uow, raw, recipients)
            if self.fail_with is not None:
                raise self.fail_with  # after the work, before the commit: nothing kept
            uow.commit()
        self.results.append(result)
        return result


@pytest.fixture
def receiver(make_uow: Callable[[], UnitOfWork], team: Team) -> Iterator[tuple[Receiver, int]]:
    with make_uow() as uow:
        add_mailbox(uow, team)
        uow.commit()
    state = Receiver(make_uow)
    port = free_port()
    server = smtpd.controller(
        smtpd.IntakeHandler(accepts=state.accepts, store=state.store),
        host="127.0.0.1",
        port=port,
        max_message_bytes=MAX_BYTES,
    )
    server.start()
    yield state, port
    server.stop()


def _send(port: int, raw: bytes, to: str = TEAM_ADDRESS) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("wang.fang@customer.example.cn", [to], raw)


def _count(make_uow: Callable[[], UnitOfWork], model: type[Ticket] | type[Message]) -> int:
    with make_uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_mail_for_a_team_address_is_a_ticket_of_that_team_once_250_is_answered(
    receiver: tuple[Receiver, int], make_uow: Callable[[], UnitOfWork], team: Team
) -> None:
    state, port = receiver
    _send(port, customer_email(subject="发票抬头错误", message_id="<inv-1@customer.example.cn>"))
    [result] = state.results
    assert result.outcome is IngestOutcome.ticket_opened
    with make_uow() as uow:
        ticket = uow.session.get(Ticket, result.ticket_id)
        assert ticket is not None
        assert (ticket.subject, ticket.channel, ticket.team_id) == (
            "发票抬头错误",
            "email",
            team.id,
        )

    # The sender's MTA retries after a lost 250: the same Message-ID is a duplicate.
    _send(port, customer_email(subject="发票抬头错误", message_id="<inv-1@customer.example.cn>"))
    assert state.results[-1].outcome is IngestOutcome.duplicate
    assert _count(make_uow, Ticket) == 1


def test_an_unknown_recipient_is_refused_with_550(receiver: tuple[Receiver, int]) -> None:
    _state, port = receiver
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(port, customer_email(), to="nobody@help.example.cn")
    assert refused.value.recipients["nobody@help.example.cn"][0] == 550


def test_a_recipient_address_matches_whatever_its_case(receiver: tuple[Receiver, int]) -> None:
    state, port = receiver
    _send(port, customer_email(), to="Support@HELP.example.cn")
    assert [r.outcome for r in state.results] == [IngestOutcome.ticket_opened]


def test_a_message_over_the_size_limit_is_refused_with_552(
    receiver: tuple[Receiver, int], make_uow: Callable[[], UnitOfWork]
) -> None:
    _state, port = receiver
    # Refused at MAIL FROM (the client declared its SIZE) or at the end of DATA.
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        _send(port, customer_email(body="x" * (MAX_BYTES + 1)))
    assert refused.value.smtp_code == 552
    assert _count(make_uow, Ticket) == 0


def test_a_failure_to_store_answers_451_and_keeps_nothing(
    receiver: tuple[Receiver, int], make_uow: Callable[[], UnitOfWork]
) -> None:
    state, port = receiver
    state.fail_with = RuntimeError("database went away")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(port, customer_email())
    assert refused.value.smtp_code == 451
    assert _count(make_uow, Ticket) == 0

    state.fail_with = None  # the MTA retries later: now it is taken
    _send(port, customer_email())
    assert _count(make_uow, Ticket) == 1


def test_unparseable_mail_is_quarantined_and_still_answered_250(
    receiver: tuple[Receiver, int], make_uow: Callable[[], UnitOfWork]
) -> None:
    state, port = receiver
    _send(port, b"\x00\x01 not a message at all \xff\xfe")
    [result] = state.results
    assert result.outcome in (IngestOutcome.quarantined, IngestOutcome.ignored)
    assert _count(make_uow, Ticket) == 0


@pytest.fixture
def ingest_breaks_after_opening(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline opens the ticket (publishing TicketOpened), then trips over a bug."""
    real_ingest = channel_service.ingest

    def broken(uow: UnitOfWork, message: InboundMessage, **kwargs: Any) -> IngestResult:
        real_ingest(uow, message, **kwargs)
        raise RuntimeError("a bug in the pipeline")

    monkeypatch.setattr(channel_service, "ingest", broken)


@pytest.mark.usefixtures("ingest_breaks_after_opening", "email_bus")
def test_mail_that_breaks_the_pipeline_is_quarantined_and_answered_250(
    receiver: tuple[Receiver, int], make_uow: Callable[[], UnitOfWork]
) -> None:
    """Not 451 for ever (the sender would retry for days, then bounce it to the customer)."""
    state, port = receiver
    _send(port, customer_email())
    [result] = state.results
    assert result.outcome is IngestOutcome.quarantined
    assert result.reason is not None
    assert "a bug in the pipeline" in result.reason
    assert _count(make_uow, Ticket) == 0


@pytest.mark.usefixtures("ingest_breaks_after_opening", "email_bus")
def test_a_polled_message_that_breaks_the_pipeline_does_not_stop_the_mailbox(
    make_uow: Callable[[], UnitOfWork], team: Team, email_settings: Settings
) -> None:
    """What the failed attempt published (TicketOpened of a ticket rolled back) goes with it;
    else its handler failed the commit, and the same UID failed on every poll."""
    context = email_context(email_settings)
    with make_uow() as uow:
        mailbox = add_mailbox(uow, team, address="sales@help.example.cn")
        mailbox.imap_host, mailbox.uidvalidity = "imap.example", 9
        uow.commit()
        mailbox_id = mailbox.id
    with make_uow() as uow:
        plan = email_tasks.prepare_fetch(
            uow, {"mailbox_id": mailbox_id, "token": "t"}, context=context
        )
        uow.commit()
    assert plan is not None
    with make_uow() as uow:
        fetched = email_tasks.FetchOutcome(uidvalidity=9, uid=1, raw=customer_email())
        email_tasks.finish_fetch(uow, plan, fetched)
        uow.commit()
    with make_uow() as uow:
        polled = uow.session.get(EmailMailbox, mailbox_id)
        assert polled is not None
        assert polled.last_uid == 1
        [inbound] = uow.session.scalars(select(InboundRecord))
        assert inbound.outcome == IngestOutcome.quarantined.value
    assert _count(make_uow, Ticket) == 0
