"""What the sla feature needs of a ticket: a locked read, and a place to put its summary.

The summary columns (``sla_due_at``, ``sla_state``) are derived data: writing them is not a
change of the ticket, so it neither bumps the version (no 409 for an agent who read the ticket
a moment earlier) nor writes an audit row (the clocks write their own milestones).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from closeloop.db.session import UnitOfWork
from closeloop.tickets import repository
from closeloop.tickets.errors import TicketNotFound
from closeloop.tickets.models import Ticket


def ticket_for_sla(uow: UnitOfWork, *, ticket_id: int, lock: bool = False) -> Ticket:
    """The ticket whatever its visibility; ``lock`` takes its row lock first (PostgreSQL), so
    a background recompute and a person's change to the ticket never interleave."""
    ticket = (
        repository.get_for_update(uow.session, ticket_id)
        if lock
        else repository.get(uow.session, ticket_id)
    )
    if ticket is None:
        raise TicketNotFound(ticket_id=ticket_id)
    return ticket


def set_sla_summary(
    uow: UnitOfWork, *, ticket_id: int, due_at: datetime | None, state: str | None
) -> None:
    """Store the earliest due instant of the ticket's running clocks and their worst state."""
    repository.set_sla_summary(uow.session, ticket_id, due_at=due_at, state=state)
    loaded = uow.session.identity_map.get(identity_key(Ticket, ticket_id))
    if loaded is not None:
        # Keep the loaded ticket in step without marking it changed (no version bump on flush).
        set_committed_value(loaded, "sla_due_at", due_at)
        set_committed_value(loaded, "sla_state", state)
