"""Ticket events become notifications: in-app rows, and emails a real SMTP server receives."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from tests.builders import make_agent, make_customer, make_ticket, principal_of

from closeloop.accounts.domain import Role
from closeloop.accounts.models import Agent
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.kit.ids import format_ticket_number
from closeloop.notifications.models import Notification, NotificationDelivery
from closeloop.tickets import service as tickets
from closeloop.tickets.errors import TicketNotFound
from closeloop.tickets.events import MessageAdded, TicketAssigned

from .conftest import Mailbox, RunJobs

FROM = "closeloop 服务台 <support@closeloop.example>"


def _deliveries(uow: UnitOfWork) -> list[NotificationDelivery]:
    uow.session.expire_all()
    return list(uow.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def _notifications(uow: UnitOfWork) -> list[Notification]:
    uow.session.expire_all()
    return list(uow.session.scalars(select(Notification).order_by(Notification.id)))


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # SMTP's line ends


def test_assignment_tells_the_assignee_in_app_and_by_email_in_their_language(
    make_uow: Callable[[], UnitOfWork],
    subscribed_bus: EventBus,
    mailbox: Mailbox,
    run_jobs: RunJobs,
) -> None:
    with make_uow() as uow:
        lead = make_agent(uow, role=Role.supervisor, password=None)
        # The organisation's language, zh_CN, by default.
        assignee = make_agent(uow, name="李雷", email="li.lei@example.cn", password=None)
        ticket = make_ticket(uow, requester=make_customer(uow), subject="打印机卡纸", priority="P1")
        uow.commit()
        actor = principal_of(uow, lead)
        ticket_id, version = ticket.id, ticket.version
        assignee_id, address = assignee.id, assignee.email
    with make_uow() as uow:
        tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=None,
            assignee_id=assignee_id,
            expected_version=version,
            actor=actor,
            via="test",
        )
        uow.commit()  # the bus publishes TicketAssigned; the reaction writes in its own unit

    number = format_ticket_number(ticket_id)
    with make_uow() as uow:
        [notification] = _notifications(uow)
        assert notification.recipient_agent_id == assignee_id
        assert notification.title == f"工单 {number} 已分配给您"
        assert notification.body == f"您现在负责工单 {number}「打印机卡纸」（优先级 P1）。"
        assert notification.link == f"/agent/tickets/{ticket_id}"
        [delivery] = _deliveries(uow)
        assert (delivery.kind, delivery.status, delivery.address) == ("email", "pending", address)

    assert run_jobs() == 1
    [message] = mailbox.collector.messages
    assert message["From"] == FROM
    assert message["To"] == address
    assert message["Subject"] == f"工单 {number} 已分配给您"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_charset() == "utf-8"
    assert _text(message).startswith(f"您现在负责工单 {number}「打印机卡纸」（优先级 P1）。\n")
    assert f"工单：{number}" in _text(message)
    assert mailbox.collector.envelopes[0].rcpt_tos == [address]
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)
        assert delivery.sent_at is not None


def test_assigning_nobody_or_the_same_agent_tells_nobody(
    make_uow: Callable[[], UnitOfWork], subscribed_bus: EventBus
) -> None:
    with make_uow() as uow:
        agent_id = make_agent(uow, password=None).id
        uow.commit()
    for assignee_id, previous in ((None, agent_id), (agent_id, agent_id)):
        _publish(
            make_uow,
            TicketAssigned(
                ticket_id=1,
                team_id=None,
                assignee_id=assignee_id,
                previous_team_id=None,
                previous_assignee_id=previous,
            ),
        )
    with make_uow() as uow:
        assert _notifications(uow) == []
        assert _deliveries(uow) == []


def test_a_message_tells_agent_and_customer_followers_each_in_their_language(
    make_uow: Callable[[], UnitOfWork],
    subscribed_bus: EventBus,
    mailbox: Mailbox,
    run_jobs: RunJobs,
) -> None:
    with make_uow() as uow:
        follower = make_agent(uow, email="follower@example.cn", password=None)
        follower.locale = "en"
        colleague = make_customer(uow, name="Anna", email="anna@example.org")
        colleague.locale = "en"
        requester = make_customer(uow, email="wang@example.cn")
        ticket = make_ticket(uow, requester=requester, subject="Invoice 发票")
        uow.commit()
        ticket_id, follower_id = ticket.id, follower.id
        customer_ids = (colleague.id, requester.id)

    _publish(
        make_uow,
        MessageAdded(
            ticket_id=ticket_id,
            message_id=77,
            kind="public_reply",
            agent_follower_ids=(follower_id,),
            customer_follower_ids=customer_ids,
        ),
    )
    # The same event again (a redelivered message) tells nobody twice.
    _publish(
        make_uow,
        MessageAdded(
            ticket_id=ticket_id,
            message_id=77,
            kind="public_reply",
            agent_follower_ids=(follower_id,),
            customer_follower_ids=customer_ids,
        ),
    )
    number = format_ticket_number(ticket_id)
    with make_uow() as uow:
        [notification] = _notifications(uow)
        assert notification.recipient_agent_id == follower_id
        assert notification.title == f"New message on ticket {number}"
        assert len(_deliveries(uow)) == 3
    assert run_jobs() == 3
    by_address = {str(m["To"]): m for m in mailbox.collector.messages}
    assert sorted(by_address) == ["anna@example.org", "follower@example.cn", "wang@example.cn"]
    assert by_address["anna@example.org"]["Subject"] == f"New message on ticket {number}"
    assert by_address["wang@example.cn"]["Subject"] == f"工单 {number} 有新消息"
    assert _text(by_address["wang@example.cn"]).startswith(
        f"工单 {number}「Invoice 发票」有一条新消息。"
    )
    assert len(mailbox.collector.envelopes) == 3


LOST = "would-be-lost@example.org"


def test_a_failing_reaction_rolls_back_the_change_that_raised_it(
    make_uow: Callable[[], UnitOfWork], subscribed_bus: EventBus
) -> None:
    # Ticket 999999 does not exist: the reaction fails inside the publishing unit of work, so
    # the whole change is refused rather than committed with its notifications missing.
    with make_uow() as uow:
        make_agent(uow, password=None, email=LOST)
        uow.publish(
            MessageAdded(
                ticket_id=999_999,
                message_id=1,
                kind="public_reply",
                agent_follower_ids=(),
                customer_follower_ids=(),
            )
        )
        with pytest.raises(TicketNotFound):
            uow.commit()
    with make_uow() as uow:
        assert _notifications(uow) == []
        assert _deliveries(uow) == []
        assert (
            uow.session.scalar(
                select(func.count())
                .select_from(Agent)
                .where(Agent.email == "would-be-lost@example.org")
            )
            == 0
        )


def _publish(make_uow: Callable[[], UnitOfWork], event: object) -> None:
    """Publish as a service does: inside a unit of work, handled just before it commits."""
    with make_uow() as uow:
        uow.publish(event)
        uow.commit()
