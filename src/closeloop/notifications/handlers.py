"""Reactions to ticket events: tell the new assignee, tell followers about new messages.

Both run inside the unit of work that changed the ticket, just before it commits (subscribed
in ``closeloop.wiring``), so what they queue commits or rolls back with the change.
"""

from __future__ import annotations

from closeloop.db.session import UnitOfWork
from closeloop.notifications import service
from closeloop.notifications.domain import NotificationEvent, Recipient
from closeloop.tickets.events import MessageAdded, TicketAssigned


def on_ticket_assigned(uow: UnitOfWork, event: TicketAssigned) -> None:
    """The new assignee hears of it (in-app, and by email when they have an address)."""
    if event.assignee_id is None or event.assignee_id == event.previous_assignee_id:
        return
    service.notify(
        uow,
        event=NotificationEvent.ticket_assigned,
        recipients=[Recipient.agent(event.assignee_id)],
        params={},
        ticket_id=event.ticket_id,
    )


def on_message_added(uow: UnitOfWork, event: MessageAdded) -> None:
    """Agent followers (in-app and email) and customer followers (email) hear of a message.

    The event already chose who may know: customers only hear of public messages. Channels
    subscribed to ``ticket.message_added`` hear of every message, followers or not.
    """
    recipients = [Recipient.agent(agent_id) for agent_id in event.agent_follower_ids] + [
        Recipient.customer(customer_id) for customer_id in event.customer_follower_ids
    ]
    service.notify(
        uow,
        event=NotificationEvent.ticket_message_added,
        recipients=recipients,
        params={},
        ticket_id=event.ticket_id,
        occurrence=f"{NotificationEvent.ticket_message_added.value}:message:{event.message_id}",
    )
