"""The email loop end to end with real SMTP on both sides: a customer's mail (handed to the
SMTP receiver's store step) opens a ticket and is acknowledged once; the agent's public reply
reaches the customer (an aiosmtpd sink) threaded by Message-ID, In-Reply-To and References,
with the ticket number in the subject; the customer's answer to it joins the same ticket."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from tests.builders import make_agent, make_customer, make_ticket, principal_of

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.models import Team
from closeloop.channels.base import IngestOutcome, IngestResult
from closeloop.channels.email import mailboxes, smtpd
from closeloop.channels.email.models import OutgoingEmail
from closeloop.channels.email.schemas import EmailTemplateUpdate
from closeloop.channels.service.addresses import record_address_failure
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.customer_links import customer_link_path
from closeloop.tickets.domain import Channel, MessageKind
from closeloop.tickets.schemas import MessageCreate

from .conftest import SERVER_KEY, TEAM_ADDRESS, RunJobs, Sink, add_mailbox
from .mail import customer_email

CUSTOMER = "wang.fang@customer.example.cn"


@pytest.fixture
def mailbox(make_uow: Callable[[], UnitOfWork], team: Team) -> int:
    with make_uow() as uow:
        mailbox_id = add_mailbox(uow, team).id
        uow.commit()
        return mailbox_id


def receive(make_uow: Callable[[], UnitOfWork], raw: bytes) -> IngestResult:
    """What ``closeloop smtpd`` does on DATA: store, commit, then answer 250."""
    with make_uow() as uow:
        result = smtpd.store_message(uow, raw, [TEAM_ADDRESS])
        uow.commit()
        return result


def reply(
    make_uow: Callable[[], UnitOfWork],
    ticket_id: int,
    body: str,
    *,
    settings: Settings | None = None,
    kind: MessageKind = MessageKind.public_reply,
) -> int:
    with make_uow() as uow:
        agent = make_agent(uow, password=None, role=Role.supervisor)
        actor = principal_of(uow, agent)
        attachment_ids = []
        if settings is not None:
            attachment = tickets.upload_attachment(
                uow,
                ticket_id=ticket_id,
                filename="诊断步骤.txt",
                content_type="text/plain",
                stream=io.BytesIO("1. 重启打印机\n".encode()),
                store=AttachmentStore(settings.attachments_dir),
                max_bytes=1024 * 1024,
                blocked_extensions=(),
                actor=actor,
                via="test",
            )
            attachment_ids.append(attachment.id)
        message = tickets.add_message(
            uow,
            ticket_id=ticket_id,
            data=MessageCreate(kind=kind, body=body, attachment_ids=attachment_ids),
            actor=actor,
            via="test",
        )
        uow.commit()
        return message.id


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_the_whole_loop_threads_by_message_id(
    make_uow: Callable[[], UnitOfWork],
    run_jobs: RunJobs,
    sink: Sink,
    mailbox: int,
    team: Team,
    email_settings: Settings,
) -> None:
    first = receive(make_uow, customer_email(message_id="<first@customer.example.cn>"))
    assert first.outcome is IngestOutcome.ticket_opened
    assert first.ticket_id is not None
    ticket_id = first.ticket_id
    number = format_ticket_number(ticket_id)
    run_jobs()

    # The acknowledgement: once, automatic, with the number and the private link.
    [ack] = sink.collector.messages
    link = "https://help.example.cn" + customer_link_path(SERVER_KEY, ticket_id)
    assert ack["To"].addresses[0].addr_spec == CUSTOMER
    assert ack["From"].addresses[0].addr_spec == TEAM_ADDRESS
    assert ack["From"].addresses[0].display_name == "售后组"
    assert number in str(ack["Subject"])
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<first@customer.example.cn>"
    assert link in text_of(ack)
    assert "打印机无法连接" in text_of(ack)  # Chinese: the organisation's default locale

    reply_id = reply(make_uow, ticket_id, "请先重启打印机。", settings=email_settings)
    run_jobs()
    [_ack, answer] = sink.collector.messages
    assert answer["Subject"] == f"Re: 打印机无法连接 [{number}]"
    our_id = str(answer["Message-ID"])
    assert re.fullmatch(
        rf"<tk-{ticket_id}\.m-{reply_id}\.[0-9a-f]{{16}}@help\.example\.cn>", our_id
    )
    assert answer["In-Reply-To"] == "<first@customer.example.cn>"
    references = str(answer["References"]).split()
    assert references[0] == "<first@customer.example.cn>"
    assert our_id not in references
    assert "Auto-Submitted" not in answer
    assert "请先重启打印机。" in text_of(answer)
    html = answer.get_body(preferencelist=("html",))
    assert html is not None
    assert "请先重启打印机。" in str(html.get_content())
    [attached] = list(answer.iter_attachments())
    assert attached.get_filename() == "诊断步骤.txt"
    assert attached.get_payload(decode=True) == "1. 重启打印机\n".encode()

    # The customer answers our email; the subject no longer names the ticket.
    second = receive(
        make_uow,
        customer_email(
            subject="Re: 打印机无法连接",
            body="重启后还是不行。",
            message_id="<second@customer.example.cn>",
            in_reply_to=our_id,
            references=f"<first@customer.example.cn> {our_id}",
        ),
    )
    assert (second.outcome, second.ticket_id) == (IngestOutcome.message_added, ticket_id)
    run_jobs()
    assert len(sink.collector.messages) == 2  # no second acknowledgement

    reply(make_uow, ticket_id, "我们派工程师上门。")
    run_jobs()
    third = sink.collector.messages[-1]
    assert third["In-Reply-To"] == "<second@customer.example.cn>"
    chain = str(third["References"]).split()
    assert chain[0] == "<first@customer.example.cn>"
    assert our_id in chain
    assert chain[-1] == "<second@customer.example.cn>"
    assert str(third["Message-ID"]) not in chain


def test_an_auto_reply_opens_nothing_and_is_not_acknowledged(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int
) -> None:
    result = receive(
        make_uow,
        customer_email(
            subject="自动回复: 不在办公室",
            body="我在休假，12月1日回来。",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert result.outcome is IngestOutcome.ignored
    assert result.ticket_id is None
    run_jobs()
    assert sink.collector.messages == []


def test_an_internal_note_and_a_reply_on_an_api_ticket_send_nothing(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int
) -> None:
    first = receive(make_uow, customer_email())
    assert first.ticket_id is not None
    run_jobs()
    reply(make_uow, first.ticket_id, "内部：联系厂商。", kind=MessageKind.internal_note)
    with make_uow() as uow:
        customer = make_customer(uow)
        api_ticket = make_ticket(uow, requester=customer, channel=Channel.api)
        uow.commit()
        api_ticket_id = api_ticket.id
    reply(make_uow, api_ticket_id, "Answered in the API.")
    run_jobs()
    assert len(sink.collector.messages) == 1  # the acknowledgement only


def test_a_failing_address_is_skipped_and_recorded(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int
) -> None:
    first = receive(make_uow, customer_email())
    assert first.ticket_id is not None
    run_jobs()
    with make_uow() as uow:
        record_address_failure(uow, CUSTOMER, reason="550 5.1.1 user unknown")
        uow.commit()
    reply(make_uow, first.ticket_id, "请查收。")
    run_jobs()
    assert len(sink.collector.messages) == 1
    with make_uow() as uow:
        rows = list(uow.session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)))
        assert [(r.kind, r.status) for r in rows] == [
            ("acknowledgement", "sent"),
            ("reply", "skipped"),
        ]
        assert rows[1].last_error is not None


def test_a_web_form_ticket_is_acknowledged_in_the_customers_language_with_the_teams_template(
    make_uow: Callable[[], UnitOfWork],
    run_jobs: RunJobs,
    sink: Sink,
    mailbox: int,
    team: Team,
) -> None:
    with make_uow() as uow:
        mailboxes.update_template(
            uow,
            team_id=team.id,
            data=EmailTemplateUpdate(
                sender_name="Acme Support",
                acknowledgement_subject_en="[{number}] Thanks, {customer_name}",
                acknowledgement_body_en="We have it: {subject}. Track it at {link}",
            ),
            actor=SYSTEM,
            via="test",
        )
        address = "alex@example.org"
        customer = make_customer(uow, name="Alex", email=address)
        customer.locale = "en"
        ticket = make_ticket(
            uow, requester=customer, channel=Channel.web, team_id=team.id, subject="Broken login"
        )
        uow.commit()
        ticket_id = ticket.id
    run_jobs()
    run_jobs()
    [ack] = sink.collector.messages
    number = format_ticket_number(ticket_id)
    assert ack["Subject"] == f"[{number}] Thanks, Alex"
    assert ack["To"].addresses[0].addr_spec == address
    assert ack["From"].addresses[0].display_name == "Acme Support"
    assert text_of(ack).startswith(
        "We have it: Broken login. Track it at https://help.example.cn/t/"
    )


def test_line_breaks_in_a_subject_or_name_from_outside_do_not_stop_the_email(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int, team: Team
) -> None:
    """A web form or API subject and a customer name are free text; a line break (or U+2028,
    which the email package also refuses) used to make the acknowledgement and every reply
    unsendable: the job died and the row stayed pending."""
    with make_uow() as uow:
        customer = make_customer(uow, name="Alex\r\nBcc: victim@example.net", email="a@example.org")
        customer.locale = "en"
        ticket = make_ticket(
            uow,
            requester=customer,
            channel=Channel.web,
            team_id=team.id,
            subject="Broken\nlogin\u2028again",
        )
        uow.commit()
        ticket_id = ticket.id
    run_jobs()
    reply(make_uow, ticket_id, "Fixed.")
    run_jobs()
    ack, answer = sink.collector.messages
    number = format_ticket_number(ticket_id)
    assert ack["Subject"] == f"We received your request: Broken login again [{number}]"
    assert answer["Subject"] == f"Re: Broken login again [{number}]"
    for sent in (ack, answer):
        assert sent["Bcc"] is None
        [to] = sent["To"].addresses
        assert (to.display_name, to.addr_spec) == ("Alex Bcc: victim@example.net", "a@example.org")
    with make_uow() as uow:
        statuses = [r.status for r in uow.session.scalars(select(OutgoingEmail))]
        assert statuses == ["sent", "sent"]


def test_a_reply_to_an_email_without_message_id_names_no_made_up_id(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int
) -> None:
    """Such an email is kept under a digest of its bytes ("sha256:…"); that is no Message-ID
    and must not appear in In-Reply-To or References."""
    raw = customer_email(message_id="<x>")  # no "@": not usable as the key either
    first = receive(make_uow, raw)
    assert first.ticket_id is not None
    reply(make_uow, first.ticket_id, "请先重启打印机。")
    run_jobs()
    for sent in sink.collector.messages:
        assert sent["In-Reply-To"] is None
        assert "sha256" not in str(sent["References"] or "")


def test_a_ticket_whose_requester_is_one_of_our_addresses_is_not_acknowledged(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, sink: Sink, mailbox: int, team: Team
) -> None:
    """Someone typed the help desk's own address into the web form: the acknowledgement would
    only come back to us."""
    with make_uow() as uow:
        customer = make_customer(uow, email=TEAM_ADDRESS.upper())
        make_ticket(uow, requester=customer, channel=Channel.web, team_id=team.id)
        uow.commit()
    run_jobs()
    assert sink.collector.messages == []
    with make_uow() as uow:
        [row] = uow.session.scalars(select(OutgoingEmail))
        assert (row.status, row.last_error) == ("skipped", "the address is one of ours")
