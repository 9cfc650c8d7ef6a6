"""Pull mode: "get next ticket" gives the caller the most urgent ticket they may take.

Candidates are the unassigned open tickets of the caller's teams (and, for members of a triage
team, the tickets without a team), SLA due first, then priority, then age. The caller skips
what they may not take: a ticket that would take them past their capacity, and VIP or P1
tickets while a senior of that team could take them (unless the caller is senior). The first
candidate whose row lock can be taken at once is theirs: on PostgreSQL ``FOR UPDATE SKIP
LOCKED``, so two agents pressing together get two different tickets without waiting on each
other; on SQLite the write transaction is already exclusive.
"""

from __future__ import annotations

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork
from closeloop.routing import assigners, permissions
from closeloop.routing.assigners import AgentSnapshot
from closeloop.routing.domain import DecisionSource, RoutedField, is_vip, needs_senior, weight_of
from closeloop.routing.errors import AtCapacity, PullDenied
from closeloop.routing.schemas import NextTicketRead
from closeloop.routing.service._common import TicketRecord, record_decision
from closeloop.routing.service.assignment import snapshots, team_member_ids
from closeloop.routing.service.teams import triage_team_ids
from closeloop.tickets import service as tickets
from closeloop.tickets.schemas import TicketRead

BATCH = 25
MAX_BATCHES = 8


class _Seniority:
    """Per pull: whether a senior of a team could take a ticket, and who is VIP (cached)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._teams: dict[tuple[int, str], bool] = {}
        self._customers: dict[int, str] = {}
        self._companies: dict[int, str] = {}

    def reserved(self, ticket: TicketRecord) -> bool:
        """The ticket is for seniors: VIP or P1, and a senior of its team can take it."""
        if ticket.team_id is None or not needs_senior(
            priority=ticket.priority, vip=self._vip(ticket)
        ):
            return False
        key = (ticket.team_id, ticket.priority)
        if key not in self._teams:
            now = self.uow.clock.now()
            team = snapshots(self.uow, team_member_ids(self.uow, ticket.team_id))
            self._teams[key] = any(
                agent.is_senior
                and assigners.is_available(agent, now)
                and assigners.has_room(agent, ticket.priority)
                for agent, _name in team
            )
        return self._teams[key]

    def _vip(self, ticket: TicketRecord) -> bool:
        if ticket.requester_id not in self._customers:
            self._customers[ticket.requester_id] = accounts.get_customer(
                self.uow, ticket.requester_id
            ).tier
        company_tier = None
        if ticket.company_id is not None:
            if ticket.company_id not in self._companies:
                self._companies[ticket.company_id] = management.get_company(
                    self.uow, company_id=ticket.company_id, actor=SYSTEM
                ).tier
            company_tier = self._companies[ticket.company_id]
        return is_vip(customer_tier=self._customers[ticket.requester_id], company_tier=company_tier)


def pull_next(uow: UnitOfWork, *, actor: Principal, via: str) -> NextTicketRead:
    if not permissions.can_pull(actor) or actor.id is None:
        raise PullDenied()
    me = snapshots(uow, [actor.id])[0][0]
    if me.open_tickets >= me.max_concurrent:
        raise AtCapacity(open_tickets=me.open_tickets)
    triage_teams = [team for team in triage_team_ids(uow) if team in actor.team_ids]
    if not actor.team_ids:
        return NextTicketRead(ticket=None, reason="no_team")
    seniority = _Seniority(uow)
    for batch_number in range(MAX_BATCHES):
        batch = tickets.pull_candidates(
            uow,
            team_ids=sorted(actor.team_ids),
            include_teamless=bool(triage_teams),
            offset=batch_number * BATCH,
            limit=BATCH,
        )
        for candidate in batch:
            if not _may_take(me, candidate, seniority):
                continue
            if tickets.claim_unassigned(uow, ticket_id=candidate.id) is None:
                continue  # taken meanwhile, or being taken right now by someone else
            return _take(uow, candidate.id, actor, triage_teams, via)
        if len(batch) < BATCH:
            break
    return NextTicketRead(ticket=None, reason="queue_empty")


def _may_take(me: AgentSnapshot, ticket: TicketRecord, seniority: _Seniority) -> bool:
    if me.load + weight_of(ticket.priority) > me.capacity:
        return False
    return me.is_senior or not seniority.reserved(ticket)


def _take(
    uow: UnitOfWork, ticket_id: int, actor: Principal, triage_teams: list[int], via: str
) -> NextTicketRead:
    assert actor.id is not None
    claimed = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    if claimed.team_id is None:
        # From the triage queue: it joins the caller's triage team (the system does that, as
        # the caller may not read a ticket without a team).
        ticket = tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=triage_teams[0],
            assignee_id=actor.id,
            expected_version=claimed.version,
            actor=SYSTEM,
            via=via,
        )
    else:
        ticket = tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=claimed.team_id,
            assignee_id=actor.id,
            expected_version=claimed.version,
            actor=actor,
            via=via,
        )
    record_decision(
        uow,
        ticket_id=ticket_id,
        field=RoutedField.assignee,
        value=actor.id,
        source=DecisionSource.manual,
        detail="pulled",
    )
    return NextTicketRead(ticket=TicketRead.of(ticket))
