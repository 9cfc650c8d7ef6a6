"""Reactions of the tickets feature to other features' events (subscribed in ``wiring.py``)."""

from __future__ import annotations

from collections import defaultdict

from closeloop.accounts.events import CustomersMerged
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.tickets import repository
from closeloop.tickets.events import TicketUpdated
from closeloop.tickets.models import Ticket
from closeloop.tickets.service._common import record


def on_customers_merged(uow: UnitOfWork, event: CustomersMerged) -> None:
    """The merged customer's tickets get the survivor as requester (and the survivor's
    company); where the merged customer followed a ticket, the survivor follows it instead,
    unless the survivor requests or already follows it. In the merge's transaction; each ticket
    touched gets one audit record."""
    source, survivor = event.source_customer_id, event.survivor_customer_id
    now = uow.clock.now()
    changes: defaultdict[int, list[Change]] = defaultdict(list)
    touched: dict[int, Ticket] = {}
    for ticket in repository.tickets_requested_by(uow.session, source):
        changes[ticket.id].append(Change("requester_id", source, survivor))
        if ticket.company_id != event.survivor_company_id:
            changes[ticket.id].append(
                Change("company_id", ticket.company_id, event.survivor_company_id)
            )
            ticket.company_id = event.survivor_company_id
        ticket.requester_id = survivor
        ticket.updated_at = now
        touched[ticket.id] = ticket
    for follower in repository.customer_follows(uow.session, source):
        ticket_id = follower.ticket_id
        found = touched.get(ticket_id) or repository.get(uow.session, ticket_id)
        if found is None:  # pragma: no cover (the follower row cascades with its ticket)
            continue
        ticket = touched[ticket_id] = found
        present = repository.follower_of(uow.session, ticket_id, customer_id=survivor)
        if present is not None or ticket.requester_id == survivor:
            uow.session.delete(follower)
            changes[ticket_id].append(Change("follower.customer_id", source, None))
        else:
            follower.customer_id = survivor
            changes[ticket_id].append(Change("follower.customer_id", source, survivor))
    uow.session.flush()
    for ticket_id, ticket_changes in sorted(changes.items()):
        record(
            uow,
            touched[ticket_id],
            action="ticket.customer_merged",
            actor=event.actor,
            via=event.via,
            changes=ticket_changes,
        )
        fields = tuple(sorted({c.field for c in ticket_changes if c.field in _TICKET_FIELDS}))
        if fields:
            uow.publish(TicketUpdated(ticket_id=ticket_id, fields=fields))


_TICKET_FIELDS = frozenset({"requester_id", "company_id"})
