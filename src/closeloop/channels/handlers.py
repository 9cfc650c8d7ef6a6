"""Reactions of the channels to ticket events (subscribed in ``closeloop.wiring``).

In-transaction: the outgoing email row and its delivery job commit with the reply or the new
ticket that caused them (transactional outbox), or not at all.
"""

from __future__ import annotations

from closeloop.channels.email import outbound
from closeloop.db.session import UnitOfWork
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.events import MessageAdded, TicketOpened


def on_message_added(uow: UnitOfWork, event: MessageAdded) -> None:
    """An agent's public reply on an email (or web-form) ticket is emailed to the requester:
    that email is the customer's notification of the reply."""
    if event.kind != MessageKind.public_reply.value:
        return
    outbound.queue_reply(uow, ticket_id=event.ticket_id, message_id=event.message_id)


def on_ticket_opened(uow: UnitOfWork, event: TicketOpened) -> None:
    """A new email or web-form ticket is acknowledged once, with its number and private link.
    Mail the pipeline ignored (auto-replies, bounces) opens no ticket, so it is never
    acknowledged."""
    if event.channel not in outbound.EMAIL_TICKET_CHANNELS:
        return
    outbound.queue_acknowledgement(uow, ticket_id=event.ticket_id)
