"""Reactions to ticket events: keep the ticket's clocks in step with every relevant change.

Subscribed in ``closeloop.wiring`` as *in-transaction* handlers: they run inside the unit of
work that changed the ticket, just before it commits, so the clocks and the ticket's SLA
summary commit (or roll back) together with the change that moved them.
"""

from __future__ import annotations

from closeloop.db.session import UnitOfWork
from closeloop.sla.service import clocks
from closeloop.tickets.events import (
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketOpened,
    TicketsMerged,
    TicketUpdated,
)

# Fields of a ticket that choose the policy or the targets, or move a clock.
RETARGETING_FIELDS = frozenset(
    {"priority", "type", "channel", "team_id", "assignee_id", "tags", "status"}
)


def on_ticket_opened(uow: UnitOfWork, event: TicketOpened) -> None:
    clocks.recompute_after_change(uow, ticket_id=event.ticket_id)


def on_status_changed(uow: UnitOfWork, event: StatusChanged) -> None:
    """Pausing statuses stop a clock, resolving meets the resolution target."""
    clocks.recompute_after_change(uow, ticket_id=event.ticket_id)


def on_message_added(uow: UnitOfWork, event: MessageAdded) -> None:
    """A public reply meets the waiting response target; a customer message starts a
    next-response wait."""
    if event.kind == "internal_note":
        return
    clocks.recompute_after_change(uow, ticket_id=event.ticket_id)


def on_ticket_updated(uow: UnitOfWork, event: TicketUpdated) -> None:
    """A new priority, type, team or tags may choose another policy or target: re-target."""
    if RETARGETING_FIELDS.isdisjoint(event.fields):
        return
    clocks.recompute_after_change(uow, ticket_id=event.ticket_id)


def on_ticket_assigned(uow: UnitOfWork, event: TicketAssigned) -> None:
    """Another team may bring another policy."""
    if event.team_id == event.previous_team_id:
        return
    clocks.recompute_after_change(uow, ticket_id=event.ticket_id)


def on_tickets_merged(uow: UnitOfWork, event: TicketsMerged) -> None:
    """The source stops being measured; the survivor carries on."""
    clocks.recompute_after_change(uow, ticket_id=event.source_ticket_id)
    clocks.recompute_after_change(uow, ticket_id=event.survivor_ticket_id)
