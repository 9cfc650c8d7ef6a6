"""Per-team queue views (unassigned, by agent, at risk), the triage queue, and what routing
knows about one ticket (decisions, transfers, triage and ping-pong state)."""

from __future__ import annotations

import enum

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied, ValidationFailed
from closeloop.kit.pagination import InvalidCursor, decode_cursor
from closeloop.routing import assigners, permissions, repository
from closeloop.routing.domain import DecisionSource
from closeloop.routing.errors import QueueDenied
from closeloop.routing.schemas import (
    AgentLoadRead,
    DecisionRead,
    TicketRoutingRead,
    TriageEntryRead,
)
from closeloop.routing.service._common import require_team_reader
from closeloop.routing.service.assignment import snapshots, team_member_ids
from closeloop.routing.service.teams import triage_team_ids
from closeloop.routing.service.transfers import present_transfer
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import OPEN_STATUSES, TicketQuery
from closeloop.tickets.schemas import TicketPage, TicketRead

# SLA states of tickets at risk (the worst of the ticket's clocks).
AT_RISK_STATES = ("warning", "breached")


class QueueView(enum.StrEnum):
    open = "open"
    unassigned = "unassigned"
    at_risk = "at_risk"


def team_queue(
    uow: UnitOfWork,
    *,
    team_id: int,
    view: QueueView,
    actor: Principal,
    agent_id: int | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> TicketPage:
    """The team's open tickets (of one agent when ``agent_id`` is given): all of them, the
    unassigned ones, or those whose SLA is in warning or breached; the earliest SLA due
    first."""
    require_team_reader(actor, team_id)
    accounts.get_team(uow, team_id)
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursor as error:
        raise ValidationFailed(
            errors=[{"field": "cursor", "code": "invalid", "message": "Unknown cursor."}]
        ) from error
    query = TicketQuery(
        team_ids=[team_id],
        statuses=sorted(s.value for s in OPEN_STATUSES),
        unassigned=view is QueueView.unassigned,
        assignee_ids=[agent_id] if agent_id is not None else [],
        sla_states=AT_RISK_STATES if view is QueueView.at_risk else (),
        sort="sla_due_at",
        descending=False,
        after=after,
        limit=limit,
    )
    page = tickets.list_tickets(uow, query=query, actor=actor)
    return TicketPage(items=[TicketRead.of(t) for t in page.items], next_cursor=page.next_cursor)


def team_load(uow: UnitOfWork, *, team_id: int, actor: Principal) -> list[AgentLoadRead]:
    """The queue by agent: each active member's availability, open tickets and load."""
    require_team_reader(actor, team_id)
    now = uow.clock.now()
    return [
        AgentLoadRead(
            agent_id=agent.agent_id,
            name=name,
            is_senior=agent.is_senior,
            status=agent.status,
            available=assigners.is_available(agent, now),
            open_tickets=agent.open_tickets,
            load=agent.load,
            capacity=agent.capacity,
            max_concurrent=agent.max_concurrent,
            last_assigned_at=agent.last_assigned_at,
        )
        for agent, name in snapshots(uow, team_member_ids(uow, team_id))
    ]


def triage_queue(
    uow: UnitOfWork, *, actor: Principal, offset: int = 0, limit: int = 25
) -> list[TriageEntryRead]:
    """Tickets no rule or prediction could give a team, the longest waiting first."""
    if not permissions.can_read_triage(actor, triage_team_ids(uow)):
        raise QueueDenied()
    entries: list[TriageEntryRead] = []
    for ticket_id in repository.triage_page(uow.session, offset=offset, limit=limit):
        state = repository.ticket_state(uow.session, ticket_id)
        assert state is not None
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        entries.append(
            TriageEntryRead(
                ticket=TicketRead.of(ticket),
                triage_reason=state.triage_reason,
                triaged_at=state.triaged_at,
            )
        )
    return entries


def ticket_routing(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> TicketRoutingRead:
    """Why the ticket is where it is: decisions with their sources, transfers, triage and
    ping-pong state. For agents; a ticket you may not read is not found."""
    tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    if actor.is_customer:
        raise PermissionDenied()
    state = repository.ticket_state(uow.session, ticket_id)
    return TicketRoutingRead(
        ticket_id=ticket_id,
        in_triage=bool(state and state.in_triage),
        triage_reason=state.triage_reason if state else "",
        triaged_at=state.triaged_at if state else None,
        ping_pong_at=state.ping_pong_at if state else None,
        suggested_team_id=state.suggested_team_id if state else None,
        required_skills=dict(state.required_skills) if state else {},
        decisions=[
            DecisionRead(
                field=d.field,
                value=d.value,
                source=DecisionSource(d.source),
                rule_id=d.rule_id,
                model_id=d.model_id,
                confidence=d.confidence,
                detail=d.detail,
                at=d.at,
            )
            for d in repository.decisions_of(uow.session, ticket_id)
        ],
        transfers=[present_transfer(t) for t in repository.transfers_of(uow.session, ticket_id)],
    )
