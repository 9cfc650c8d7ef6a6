"""What routing needs of the ticket queues: the unassigned tickets in order of urgency, taking
one of them without a race, and how much open work each agent holds.

These read across visibility on purpose: routing decides who may pull or receive what, and the
assignment itself goes through ``assign`` with the caller's permissions.
"""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.db.session import UnitOfWork
from closeloop.tickets import repository
from closeloop.tickets.models import Ticket


def pull_candidates(
    uow: UnitOfWork,
    *,
    team_ids: Sequence[int],
    include_teamless: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> list[Ticket]:
    """Unassigned open tickets of these teams (and without a team), most urgent first: SLA due
    first, then priority, then age."""
    return repository.pull_candidates(
        uow.session,
        team_ids=team_ids,
        include_teamless=include_teamless,
        offset=offset,
        limit=limit,
    )


def claim_unassigned(uow: UnitOfWork, *, ticket_id: int) -> Ticket | None:
    """Lock the ticket for this unit of work if it is still unassigned; ``None`` when it was
    taken meanwhile or another transaction is taking it right now (never waits for it)."""
    return repository.lock_if_unassigned(uow.session, ticket_id)


def open_work_by_assignee(
    uow: UnitOfWork, *, agent_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Agent id → {priority: number of open tickets assigned to them}."""
    return repository.open_work_by_assignee(uow.session, agent_ids)
