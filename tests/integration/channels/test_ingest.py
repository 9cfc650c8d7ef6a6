"""The inbound pipeline end to end on SQLite and PostgreSQL: every message becomes exactly one
ticket or one message on the right ticket, or a recorded decision not to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.builders import make_company, make_customer, make_ticket

from closeloop import wiring
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.channels import service as channel_service
from closeloop.channels.base import (
    InboundAttachment,
    InboundMessage,
    IngestOutcome,
    SenderIdentity,
)
from closeloop.channels.email.threading import SubjectWindow
from closeloop.channels.models import InboundRecord
from closeloop.channels.service import IngestSettings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock
from closeloop.kit.errors import PermissionDenied
from closeloop.notifications.models import NotificationDelivery
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Channel, TicketStatus
from closeloop.tickets.models import Attachment, Message, Ticket, TicketFollower, TicketLink

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
VIA = "channel:email"


@pytest.fixture
def config(tmp_path: Path) -> IngestSettings:
    return IngestSettings(
        attachments_dir=tmp_path / "attachments",
        raw_dir=tmp_path / "inbound",
        max_attachment_bytes=1024,
        blocked_extensions=(".exe",),
        own_addresses=frozenset({"support@closeloop.test"}),
        subject_window=SubjectWindow(),
    )


def email(
    clock: FrozenClock,
    *,
    external_id: str = "m1@mail.example.org",
    sender: str = "li.lei@example.org",
    subject: str = "打印机无法连接",
    body: str = "办公室的打印机从早上开始连不上。",
    **fields: Any,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.email,
        external_id=external_id,
        sender=SenderIdentity(IdentityKind.email, sender, "Li Lei"),
        subject=subject,
        body_text=body,
        received_at=fields.pop("received_at", clock.now()),
        raw=fields.pop("raw", f"Message-ID: <{external_id}>\r\n\r\n{body}".encode()),
        **fields,
    )


@pytest.fixture
def ingest(uow: UnitOfWork, config: IngestSettings) -> Callable[[InboundMessage], Any]:
    def run(message: InboundMessage) -> Any:
        return channel_service.ingest(uow, message, via=VIA, settings=config)

    return run


def count(uow: UnitOfWork, model: Any) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def messages_of(uow: UnitOfWork, ticket_id: int) -> list[Message]:
    return list(
        uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
    )


def close(uow: UnitOfWork, ticket_id: int) -> None:
    for target in (TicketStatus.resolved, TicketStatus.closed):
        tickets.transition(
            uow,
            ticket_id=ticket_id,
            target=target,
            pending_reason=None,
            expected_version=uow.session.get(Ticket, ticket_id).version,  # type: ignore[union-attr]
            actor=SYSTEM,
            via="test",
        )


# --- new tickets and duplicates -----------------------------------------------------------------


def test_new_email_opens_a_ticket_with_its_body_as_the_first_message(
    uow: UnitOfWork,
    clock: FrozenClock,
    ingest: Callable[[InboundMessage], Any],
    config: IngestSettings,
) -> None:
    result = ingest(email(clock, body_html="<p>办公室的<b>打印机</b><script>x()</script></p>"))

    assert result.outcome is IngestOutcome.ticket_opened
    ticket = uow.session.get(Ticket, result.ticket_id)
    assert ticket is not None
    assert ticket.subject == "打印机无法连接"
    assert ticket.channel == "email"
    assert ticket.type == "inquiry"
    assert ticket.description == "办公室的打印机从早上开始连不上。"
    customer = accounts.find_customer_by_identity(uow, IdentityKind.email, "li.lei@example.org")
    assert customer is not None
    assert ticket.requester_id == customer.id == result.customer_id
    [first] = messages_of(uow, ticket.id)
    assert first.id == result.message_id
    assert first.kind == "customer_message"
    assert first.author_customer_id == customer.id
    assert first.external_id == "m1@mail.example.org"
    assert first.body_html == "<p>办公室的<b>打印机</b></p>"
    record = uow.session.scalars(select(InboundRecord)).one()
    assert (record.outcome, record.ticket_id, record.message_id) == (
        "ticket_opened",
        ticket.id,
        first.id,
    )
    assert record.sender == "email:li.lei@example.org"
    assert record.raw_sha256 is not None
    raw_file = config.raw_dir / record.raw_sha256[:2] / record.raw_sha256[2:4] / record.raw_sha256
    assert raw_file.read_bytes().startswith(b"Message-ID: <m1@mail.example.org>")
    assert channel_service.email_references_for_ticket(uow, ticket.id) == ["<m1@mail.example.org>"]


def test_team_and_type_from_the_channel_are_kept(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    from tests.builders import make_team

    team = make_team(uow)
    from closeloop.tickets.domain import TicketType

    result = ingest(email(clock, team_id=team.id, ticket_type=TicketType.fault))

    ticket = uow.session.get(Ticket, result.ticket_id)
    assert ticket is not None
    assert (ticket.team_id, ticket.type) == (team.id, "fault")


def test_empty_subject_takes_the_first_line_of_the_body(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    result = ingest(email(clock, subject="  ", body="\n\n  VPN 断开了  \n详细情况如下"))

    ticket = uow.session.get(Ticket, result.ticket_id)
    assert ticket is not None
    assert ticket.subject == "VPN 断开了"


def test_the_same_message_twice_is_a_duplicate_and_nothing_doubles(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock))
    again = ingest(email(clock, body="another body, same Message-ID"))

    assert again.outcome is IngestOutcome.duplicate
    assert (again.ticket_id, again.message_id) == (first.ticket_id, first.message_id)
    assert count(uow, Ticket) == 1
    assert count(uow, Message) == 1
    assert count(uow, InboundRecord) == 1


# --- threading ------------------------------------------------------------------------------------


def test_reply_by_in_reply_to_lands_on_the_ticket(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock))
    # Our answer went out with this Message-ID (email transport remembers it).
    channel_service.remember_email_reference(
        uow, message_id_header="<out-1@closeloop.test>", ticket_id=first.ticket_id, message_id=None
    )
    reply = ingest(
        email(
            clock,
            external_id="m2@mail.example.org",
            subject="Re: 完全不同的主题",
            body="还是不行",
            in_reply_to="<out-1@closeloop.test>",
            references=("<m1@mail.example.org> <out-1@closeloop.test>",),
        )
    )

    assert reply.outcome is IngestOutcome.message_added
    assert reply.ticket_id == first.ticket_id
    assert [m.body_text for m in messages_of(uow, first.ticket_id)] == [
        "办公室的打印机从早上开始连不上。",
        "还是不行",
    ]
    assert channel_service.email_references_for_ticket(uow, first.ticket_id) == [
        "<m1@mail.example.org>",
        "<out-1@closeloop.test>",
        "<m2@mail.example.org>",
    ]


def test_a_colleague_answering_in_cc_follows_the_ticket(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock, recipients=("support@closeloop.test", "Han.Meimei@example.org")))
    reply = ingest(
        email(
            clock,
            external_id="m2@mail.example.org",
            sender="han.meimei@example.org",
            subject="Re: 打印机无法连接",
            body="我这边也一样",
            in_reply_to="<m1@mail.example.org>",
        )
    )

    assert reply.outcome is IngestOutcome.message_added
    assert reply.ticket_id == first.ticket_id
    followers = uow.session.scalars(select(TicketFollower.customer_id)).all()
    assert followers == [reply.customer_id]


def test_a_stranger_who_learnt_a_message_id_gets_a_ticket_of_their_own(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    """Message-IDs travel with forwards and quotes: knowing one is no invitation. Only someone
    an email of the ticket was addressed to may answer onto it (and follow it)."""
    first = ingest(email(clock, recipients=("support@closeloop.test",)))
    channel_service.remember_email_reference(
        uow, message_id_header="<out-1@closeloop.test>", ticket_id=first.ticket_id, message_id=None
    )

    reply = ingest(
        email(
            clock,
            external_id="m2@elsewhere.example",
            sender="forwarded.to@elsewhere.example",
            subject="Re: 打印机无法连接",
            body="请把发票寄到这个新地址",
            in_reply_to="<out-1@closeloop.test>",
            references=("<m1@mail.example.org>",),
        )
    )

    assert reply.outcome is IngestOutcome.ticket_opened
    assert reply.ticket_id != first.ticket_id
    assert [m.body_text for m in messages_of(uow, first.ticket_id)] == [
        "办公室的打印机从早上开始连不上。"
    ]
    assert uow.session.scalars(select(TicketFollower)).all() == []
    record = uow.session.scalars(
        select(InboundRecord).where(InboundRecord.external_id == "m2@elsewhere.example")
    ).one()
    assert record.details["untrusted_reference"] == first.ticket_id


def test_someone_of_another_company_in_cc_does_not_follow(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    make_customer(uow, email="rival@other.example", company=make_company(uow, name="Other"))
    first = ingest(email(clock, recipients=("rival@other.example",)))

    reply = ingest(
        email(
            clock,
            external_id="m2@other.example",
            sender="rival@other.example",
            subject="Re: 打印机无法连接",
            in_reply_to="<m1@mail.example.org>",
        )
    )

    assert reply.outcome is IngestOutcome.ticket_opened
    assert reply.ticket_id != first.ticket_id
    assert uow.session.scalars(select(TicketFollower)).all() == []


def test_ticket_number_in_the_subject_from_the_requester_lands_on_the_ticket(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    customer = make_customer(uow, email="li.lei@example.org")
    ticket = make_ticket(uow, requester=customer, subject="VPN")

    result = ingest(
        email(clock, subject=f"Re: [TK-{ticket.id:06d}] VPN", body="补充一下", external_id="x@y")
    )

    assert result.outcome is IngestOutcome.message_added
    assert result.ticket_id == ticket.id


def test_ticket_number_from_a_stranger_opens_a_new_ticket(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    customer = make_customer(uow, email="li.lei@example.org")
    ticket = make_ticket(uow, requester=customer, subject="VPN")

    result = ingest(
        email(clock, sender="guess@evil.example", subject=f"TK-{ticket.id:06d}", body="hi")
    )

    assert result.outcome is IngestOutcome.ticket_opened
    assert result.ticket_id != ticket.id
    assert messages_of(uow, ticket.id) == []


def test_same_sender_and_subject_within_the_window_continue_the_ticket(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock, subject="发票抬头错误"))
    clock.advance(timedelta(days=2))
    again = ingest(email(clock, external_id="m2@x", subject="RE: 回复: 发票抬头错误", body="还有"))
    clock.advance(timedelta(days=8))
    later = ingest(email(clock, external_id="m3@x", subject="发票抬头错误", body="又来了"))

    assert again.outcome is IngestOutcome.message_added
    assert again.ticket_id == first.ticket_id
    assert later.outcome is IngestOutcome.ticket_opened


def test_subject_window_off_opens_a_ticket_each_time(
    uow: UnitOfWork, clock: FrozenClock, config: IngestSettings
) -> None:
    off = dataclasses.replace(config, subject_window=SubjectWindow(is_enabled=False))
    first = channel_service.ingest(uow, email(clock), via=VIA, settings=off)
    again = channel_service.ingest(uow, email(clock, external_id="m2@x"), via=VIA, settings=off)

    assert again.outcome is IngestOutcome.ticket_opened
    assert again.ticket_id != first.ticket_id


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock))
    close(uow, first.ticket_id)

    reply = ingest(
        email(clock, external_id="m2@x", body="又坏了", in_reply_to="<m1@mail.example.org>")
    )

    assert reply.outcome is IngestOutcome.follow_up_opened
    assert reply.ticket_id != first.ticket_id
    link = uow.session.scalars(select(TicketLink)).one()
    assert (link.source_ticket_id, link.target_ticket_id, link.kind) == (
        reply.ticket_id,
        first.ticket_id,
        "follow_up_of",
    )
    assert [m.body_text for m in messages_of(uow, reply.ticket_id)] == ["又坏了"]
    follow_up = uow.session.get(Ticket, reply.ticket_id)
    assert follow_up is not None
    assert follow_up.requester_id == first.customer_id


def test_reply_to_a_merged_ticket_lands_on_the_survivor(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    first = ingest(email(clock))
    customer = uow.session.get(Ticket, first.ticket_id).requester_id  # type: ignore[union-attr]
    survivor = make_ticket(uow, requester=accounts.get_customer(uow, customer), subject="合并目标")
    tickets.merge_tickets(
        uow,
        source_ticket_id=first.ticket_id,
        into_ticket_id=survivor.id,
        expected_version=uow.session.get(Ticket, first.ticket_id).version,  # type: ignore[union-attr]
        actor=SYSTEM,
        via="test",
    )

    reply = ingest(
        email(clock, external_id="m2@x", body="进展?", in_reply_to="<m1@mail.example.org>")
    )

    assert reply.outcome is IngestOutcome.message_added
    assert reply.ticket_id == survivor.id


def test_explicit_ticket_of_someone_else_is_quarantined(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    other = make_customer(uow)
    ticket = make_ticket(uow, requester=other)

    result = ingest(email(clock, ticket_id=ticket.id))

    assert result.outcome is IngestOutcome.quarantined
    assert result.reason is not None
    assert f"TK-{ticket.id:06d}" in result.reason
    assert messages_of(uow, ticket.id) == []


# --- noise, loops, bounces -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        pytest.param(
            {"headers": {"Auto-Submitted": "auto-replied"}},
            "ignored.auto_submitted",
            id="auto_submitted_case",
        ),
        pytest.param({"headers": {"precedence": "bulk"}}, "ignored.bulk", id="bulk_case"),
        pytest.param(
            {"headers": {"X-Loop": "support@closeloop.test"}}, "ignored.loop_header", id="loop_case"
        ),
        pytest.param(
            {"sender": "support@closeloop.test"}, "ignored.own_address", id="own_address_case"
        ),
        pytest.param(
            {"subject": "自动回复: 打印机无法连接"},
            "ignored.auto_reply_subject",
            id="auto_reply_case",
        ),
    ],
)
def test_noise_opens_nothing_and_tells_nobody(
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    config: IngestSettings,
    bus: Any,
    fields: dict[str, Any],
    code: str,
) -> None:
    subscribe_every_reaction(bus)
    with make_uow() as uow:
        result = channel_service.ingest(uow, email(clock, **fields), via=VIA, settings=config)
        uow.commit()

        assert result.outcome is IngestOutcome.ignored
        assert count(uow, Ticket) == 0
        assert count(uow, NotificationDelivery) == 0
        assert count(uow, Job) == 0
        record = uow.session.scalars(select(InboundRecord)).one()
        assert (record.outcome, record.reason_code) == ("ignored", code)


DSN = """Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1
"""


def test_bounce_marks_the_address_failing_until_it_writes_again(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    bounce = email(
        clock,
        external_id="dsn@mx",
        sender="MAILER-DAEMON@mx.example.org",
        subject="Undelivered Mail Returned to Sender",
        body="This is the mail system.\n\n" + DSN,
        headers={"Content-Type": "multipart/report; report-type=delivery-status"},
    )
    result = ingest(bounce)

    assert result.outcome is IngestOutcome.bounce
    assert count(uow, Ticket) == 0
    assert channel_service.is_address_failing(uow, "Gone@Example.org")

    written = ingest(email(clock, external_id="back@x", sender="gone@example.org"))

    assert written.outcome is IngestOutcome.ticket_opened
    assert not channel_service.is_address_failing(uow, "gone@example.org")


REPORT = b"""From: MAILER-DAEMON@mx.example.org
To: support@closeloop.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-2@mx.example.org>
Return-Path: <>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; first@example.org
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; slow@example.org
Action: delayed
Status: 4.4.7

Final-Recipient: rfc822; second@example.org
Action: failed
Status: 5.2.2

--B--
"""


def test_a_parsed_report_fails_each_failed_recipient_and_tells_nobody(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, config: IngestSettings, bus: Any
) -> None:
    from closeloop.channels.email.parse import parse_message

    subscribe_every_reaction(bus)
    with make_uow() as uow:
        make_customer(uow, email="first@example.org")
        report = parse_message(REPORT.replace(b"\n", b"\r\n"), received_at=clock.now())
        result = channel_service.ingest(uow, report, via=VIA, settings=config)
        uow.commit()

        assert result.outcome is IngestOutcome.bounce
        assert [
            channel_service.is_address_failing(uow, a)
            for a in ("first@example.org", "second@example.org", "slow@example.org")
        ] == [True, True, False]
        assert (count(uow, Ticket), count(uow, Job), count(uow, NotificationDelivery)) == (0, 0, 0)


# --- quarantine -----------------------------------------------------------------------------------


def test_blocked_attachment_quarantines_and_release_takes_it_after_the_rules_change(
    uow: UnitOfWork, clock: FrozenClock, config: IngestSettings
) -> None:
    message = email(
        clock, attachments=(InboundAttachment("setup.exe", "application/octet-stream", b"MZ..."),)
    )
    result = channel_service.ingest(uow, message, via=VIA, settings=config)

    assert result.outcome is IngestOutcome.quarantined
    assert count(uow, Ticket) == 0
    assert count(uow, Attachment) == 0
    page = channel_service.list_quarantine(uow, actor=SYSTEM)
    [row] = page.items
    assert row.reason_code == "attachment.rejected"
    assert "setup.exe" in (row.reason or "")

    relaxed = dataclasses.replace(config, blocked_extensions=())
    released = channel_service.release_quarantined(
        uow, inbound_id=row.id, actor=SYSTEM, via="test", settings=relaxed
    )

    assert released.outcome is IngestOutcome.ticket_opened
    assert [a.filename for a in uow.session.scalars(select(Attachment))] == ["setup.exe"]
    assert channel_service.list_quarantine(uow, actor=SYSTEM).items == []
    # The channel delivering it once more changes nothing.
    again = channel_service.ingest(uow, message, via=VIA, settings=relaxed)
    assert again.outcome is IngestOutcome.duplicate
    assert count(uow, Ticket) == 1


def test_discarded_message_stays_out(
    uow: UnitOfWork, clock: FrozenClock, config: IngestSettings
) -> None:
    empty = email(clock, subject="", body="  ")
    result = channel_service.ingest(uow, empty, via=VIA, settings=config)
    assert result.outcome is IngestOutcome.quarantined
    [row] = channel_service.list_quarantine(uow, actor=SYSTEM).items

    channel_service.discard_quarantined(uow, inbound_id=row.id, actor=SYSTEM, via="test")

    assert channel_service.list_quarantine(uow, actor=SYSTEM).items == []
    assert channel_service.ingest(uow, empty, via=VIA, settings=config).outcome is (
        IngestOutcome.duplicate
    )


def test_unparseable_raw_message_is_quarantined_with_its_raw_bytes(
    uow: UnitOfWork, clock: FrozenClock, config: IngestSettings
) -> None:
    result = channel_service.quarantine_raw(
        uow,
        channel=Channel.email,
        external_id="sha256:abc",
        raw=b"\x00garbage",
        reason="no headers",
        received_at=clock.now(),
        settings=config,
    )

    assert result.outcome is IngestOutcome.quarantined
    [row] = channel_service.list_quarantine(uow, actor=SYSTEM).items
    assert row.reason == "The message could not be read: no headers"
    _record, raw = channel_service.open_raw_message(
        uow, inbound_id=row.id, actor=SYSTEM, settings=config
    )
    with raw:
        assert raw.read() == b"\x00garbage"


def test_quarantine_is_for_admins(uow: UnitOfWork) -> None:
    customer = make_customer(uow)
    with pytest.raises(PermissionDenied):
        channel_service.list_quarantine(uow, actor=accounts.principal_for_customer(customer))


# --- attachments and identities -------------------------------------------------------------------


def test_attachments_are_stored_and_inline_ones_remembered(
    uow: UnitOfWork,
    clock: FrozenClock,
    ingest: Callable[[InboundMessage], Any],
    config: IngestSettings,
) -> None:
    result = ingest(
        email(
            clock,
            body_html='<p>见图 <img src="cid:img1"></p>',
            attachments=(
                InboundAttachment("screen.png", "image/png", PNG, inline=True, content_id="img1"),
                InboundAttachment("log.txt", "text/plain", b"error 42"),
                InboundAttachment("empty.txt", "text/plain", b""),
            ),
        )
    )

    stored = list(uow.session.scalars(select(Attachment).order_by(Attachment.id)))
    assert [(a.filename, a.message_id) for a in stored] == [
        ("screen.png", result.message_id),
        ("log.txt", result.message_id),
    ]
    assert (config.attachments_dir / stored[0].sha256[:2]).is_dir()
    record = uow.session.scalars(select(InboundRecord)).one()
    assert record.details["attachments"][0] == {
        "attachment_id": stored[0].id,
        "filename": "screen.png",
        "inline": True,
        "content_id": "img1",
    }
    assert record.details["skipped_empty_attachments"] == ["empty.txt"]
    assert channel_service.inline_attachment_ids(uow, message_id=result.message_id) == {
        "img1": stored[0].id
    }


def test_other_identities_are_linked_but_never_taken_from_someone_else(
    uow: UnitOfWork, clock: FrozenClock, ingest: Callable[[InboundMessage], Any]
) -> None:
    owner = make_customer(uow, email="shared@example.org", company=make_company(uow))
    message = email(
        clock,
        other_identities=(
            SenderIdentity(IdentityKind.phone, "138 0013 8000"),
            SenderIdentity(IdentityKind.email, "shared@example.org"),
        ),
    )
    result = ingest(message)

    by_phone = accounts.find_customer_by_identity(uow, IdentityKind.phone, "13800138000")
    assert by_phone is not None
    assert by_phone.id == result.customer_id
    still = accounts.find_customer_by_identity(uow, IdentityKind.email, "shared@example.org")
    assert still is not None
    assert still.id == owner.id


# --- atomicity: a refusal after the first writes leaves nothing behind ---------------------------


def subscribe_every_reaction(bus: Any) -> None:
    """The in-transaction reactions of ``wiring.build_event_bus``, on the test's bus."""
    wiring.subscribe_routing(bus)
    wiring.subscribe_sla(bus)
    wiring.subscribe_notifications(bus)
    wiring.subscribe_customer_reactions(bus)
    wiring.subscribe_email(bus)


def test_a_refusal_after_the_ticket_was_opened_quarantines_and_tells_nobody(
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    config: IngestSettings,
    bus: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The customer was created and the ticket opened (their events published) when a business
    rule refused the message: the events go with the rolled-back writes, so no reaction runs
    for a customer or ticket that does not exist, and the quarantine commits."""
    from closeloop.channels.service import taking
    from closeloop.tickets.errors import AttachmentRejected

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AttachmentRejected(filename="scan.pdf", reason="refused late")

    monkeypatch.setattr(taking, "_upload", refuse)
    subscribe_every_reaction(bus)
    seen: list[object] = []
    bus.subscribe(object, seen.append)
    with make_uow() as uow:
        result = channel_service.ingest(uow, email(clock), via=VIA, settings=config)
        uow.commit()

        assert result.outcome is IngestOutcome.quarantined
        assert (count(uow, Ticket), count(uow, Job), count(uow, NotificationDelivery)) == (0, 0, 0)
        record = uow.session.scalars(select(InboundRecord)).one()
        assert (record.outcome, record.reason_code) == ("quarantined", "attachment.rejected")
    assert seen == []
