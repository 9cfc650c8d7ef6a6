"""Reactions of the WeChat channel to ticket events (subscribed in ``closeloop.wiring``).

In-transaction: the delivery row and its ``channels.wechat.send`` job commit with the agent's
reply, so a committed reply is never left unsent and a rolled-back one is never sent.
"""

from __future__ import annotations

from closeloop.accounts.domain import SYSTEM
from closeloop.channels.wechat import repository
from closeloop.channels.wechat.models import WeChatDelivery
from closeloop.channels.wechat.service import SEND_TASK
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.tickets import service as ticket_service
from closeloop.tickets.domain import Channel, MessageKind
from closeloop.tickets.events import MessageAdded


def on_message_added(uow: UnitOfWork, event: MessageAdded) -> None:
    """An agent's public reply on a WeChat ticket goes back to the follower who wrote in."""
    if event.kind != MessageKind.public_reply.value:
        return
    ticket = ticket_service.get_ticket(uow, ticket_id=event.ticket_id, actor=SYSTEM)
    if ticket.channel != Channel.wechat.value:
        return
    if repository.delivery_for_message(uow.session, event.message_id) is not None:
        return
    # The follower whose messages went to this ticket; else the requester's latest follower
    # row (a ticket opened by an agent for a WeChat customer).
    follower = repository.follower_of_ticket(uow.session, ticket.id)
    if follower is None:
        known = repository.followers_of_customer(uow.session, ticket.requester_id)
        follower = known[0] if known else None
    delivery = WeChatDelivery(
        message_id=event.message_id,
        ticket_id=ticket.id,
        account_id=follower.account_id if follower is not None else None,
        openid=follower.openid if follower is not None else None,
        status="pending",
        attempts=0,
        parts_sent=0,
        created_at=uow.clock.now(),
    )
    uow.session.add(delivery)
    uow.session.flush()
    enqueue(
        uow,
        SEND_TASK,
        {"delivery_id": delivery.id},
        idempotency_key=f"{SEND_TASK}:message:{event.message_id}",
    )
