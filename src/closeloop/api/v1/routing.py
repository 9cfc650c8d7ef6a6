"""Routing over JSON: rules (administrators), team strategies (leads), agents' availability,
queues, pull mode and transfers. Thin handlers: parse, call the service, commit, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from closeloop.api.deps import CurrentPrincipal, IdempotentPost, IfMatch, Uow, Via, expected_version
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from closeloop.routing import service as routing
from closeloop.routing.schemas import (
    AgentLoadRead,
    AvailabilityRead,
    AvailabilityUpdate,
    DryRunRead,
    DryRunRequest,
    NextTicketRead,
    RoutingSettingsRead,
    RoutingSettingsUpdate,
    RuleCreate,
    RuleOrder,
    RuleRead,
    RuleUpdate,
    ShiftsReplace,
    TeamRoutingRead,
    TeamRoutingUpdate,
    TicketRoutingRead,
    TransferCreate,
    TransferRead,
    TransferResultRead,
    TriageEntryRead,
)
from closeloop.tickets.schemas import TicketPage

router = APIRouter(prefix="/routing", tags=["routing"])
ticket_router = APIRouter(prefix="/tickets", tags=["routing"])

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


# --- rules ------------------------------------------------------------------------------------


@router.get("/rules", response_model=list[RuleRead])
def list_rules(uow: Uow, actor: CurrentPrincipal) -> list[RuleRead]:
    """Every rule in evaluation order (the first that matches fires)."""
    return [RuleRead.of(rule) for rule in routing.list_rules(uow, actor=actor)]


@router.post("/rules", status_code=201, response_model=RuleRead)
def create_rule(
    data: RuleCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    """Add a rule (administrators), last unless ``position`` says otherwise."""
    return once.respond(
        data, lambda: RuleRead.of(routing.create_rule(uow, data=data, actor=actor, via=via))
    )


@router.put("/rules/order", response_model=list[RuleRead])
def reorder_rules(data: RuleOrder, uow: Uow, actor: CurrentPrincipal, via: Via) -> list[RuleRead]:
    """Put every rule in the given order (administrators)."""
    rules = routing.reorder_rules(uow, rule_ids=data.rule_ids, actor=actor, via=via)
    uow.commit()
    return [RuleRead.of(rule) for rule in rules]


@router.post("/rules/dry-run", response_model=DryRunRead)
def dry_run(data: DryRunRequest, uow: Uow, actor: CurrentPrincipal) -> DryRunRead:
    """Which rule would fire for a ticket (``ticket_id``, or one described in ``ticket``) and
    why each rule matches or not. Nothing is changed."""
    return DryRunRead.of(routing.dry_run(uow, data=data, actor=actor))


@router.get("/rules/{rule_id}", response_model=RuleRead)
def get_rule(rule_id: int, uow: Uow, actor: CurrentPrincipal) -> RuleRead:
    return RuleRead.of(routing.get_rule(uow, rule_id=rule_id, actor=actor))


@router.patch("/rules/{rule_id}", response_model=RuleRead)
def update_rule(
    rule_id: int, data: RuleUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> RuleRead:
    """Change a rule (administrators); ``conditions`` and ``actions`` are replaced whole."""
    rule = routing.update_rule(uow, rule_id=rule_id, data=data, actor=actor, via=via)
    uow.commit()
    return RuleRead.of(rule)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    routing.delete_rule(uow, rule_id=rule_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


# --- settings, teams, agents --------------------------------------------------------------------


@router.get("/settings", response_model=RoutingSettingsRead)
def read_settings(uow: Uow, actor: CurrentPrincipal) -> RoutingSettingsRead:
    return RoutingSettingsRead.of(routing.read_settings(uow, actor=actor))


@router.patch("/settings", response_model=RoutingSettingsRead)
def update_settings(
    data: RoutingSettingsUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> RoutingSettingsRead:
    """Ping-pong threshold, escalation team, and whether ping-pong tickets move there."""
    settings = routing.update_settings(uow, changes=data, actor=actor, via=via)
    uow.commit()
    return RoutingSettingsRead.of(settings)


@router.get("/teams/{team_id}", response_model=TeamRoutingRead)
def team_routing(team_id: int, uow: Uow, actor: CurrentPrincipal) -> TeamRoutingRead:
    return TeamRoutingRead.of(routing.team_routing(uow, team_id=team_id, actor=actor))


@router.patch("/teams/{team_id}", response_model=TeamRoutingRead)
def set_team_routing(
    team_id: int, data: TeamRoutingUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> TeamRoutingRead:
    """The team's assignment strategy and triage flag (its lead or an administrator)."""
    row = routing.set_team_routing(uow, team_id=team_id, changes=data, actor=actor, via=via)
    uow.commit()
    return TeamRoutingRead.of(row)


@router.get("/teams/{team_id}/queue", response_model=TicketPage)
def team_queue(
    team_id: int,
    uow: Uow,
    actor: CurrentPrincipal,
    view: routing.QueueView = routing.QueueView.unassigned,
    agent_id: int | None = None,
    cursor: str | None = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> TicketPage:
    """The team's open tickets (``open``), unassigned ones, or those at risk (SLA warning or
    breached); of one agent with ``agent_id``. Earliest SLA due first."""
    return routing.team_queue(
        uow, team_id=team_id, view=view, agent_id=agent_id, actor=actor, cursor=cursor, limit=limit
    )


@router.get("/teams/{team_id}/agents", response_model=list[AgentLoadRead])
def team_load(team_id: int, uow: Uow, actor: CurrentPrincipal) -> list[AgentLoadRead]:
    """The queue by agent: availability, open tickets and weighted load of each member."""
    return routing.team_load(uow, team_id=team_id, actor=actor)


@router.get("/triage", response_model=list[TriageEntryRead])
def triage_queue(
    uow: Uow,
    actor: CurrentPrincipal,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> list[TriageEntryRead]:
    """Tickets that no rule or prediction gave a team, the longest waiting first."""
    return routing.triage_queue(uow, actor=actor, offset=offset, limit=limit)


@router.get("/agents/{agent_id}/availability", response_model=AvailabilityRead)
def availability(agent_id: int, uow: Uow, actor: CurrentPrincipal) -> AvailabilityRead:
    return routing.availability_of(uow, agent_id=agent_id, actor=actor)


@router.patch("/agents/{agent_id}/availability", response_model=AvailabilityRead)
def update_availability(
    agent_id: int, data: AvailabilityUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> AvailabilityRead:
    """Status (the agent themself), capacity and maximum (a lead of their team, admins)."""
    routing.update_availability(uow, agent_id=agent_id, changes=data, actor=actor, via=via)
    uow.commit()
    return routing.availability_of(uow, agent_id=agent_id, actor=actor)


@router.put("/agents/{agent_id}/shifts", response_model=AvailabilityRead)
def replace_shifts(
    agent_id: int, data: ShiftsReplace, uow: Uow, actor: CurrentPrincipal, via: Via
) -> AvailabilityRead:
    """The agent's weekly shifts, replaced whole (a lead of their team, admins)."""
    routing.replace_shifts(uow, agent_id=agent_id, shifts=data.shifts, actor=actor, via=via)
    uow.commit()
    return routing.availability_of(uow, agent_id=agent_id, actor=actor)


# --- pull mode and tickets ----------------------------------------------------------------------


@router.post("/next", response_model=NextTicketRead)
def next_ticket(uow: Uow, actor: CurrentPrincipal, via: Via) -> NextTicketRead:
    """Take the most urgent unassigned ticket of your teams (SLA due first, then priority,
    then age). Two agents pressing together never get the same ticket."""
    taken = routing.pull_next(uow, actor=actor, via=via)
    uow.commit()
    return taken


@router.get("/tickets/{ticket_id}", response_model=TicketRoutingRead)
def ticket_routing(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> TicketRoutingRead:
    """Why the ticket is where it is: decisions and their sources, transfers, triage."""
    return routing.ticket_routing(uow, ticket_id=ticket_id, actor=actor)


@ticket_router.post("/{ticket_id}/transfer", response_model=TransferResultRead)
def transfer_ticket(
    ticket_id: int,
    data: TransferCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    if_match: IfMatch = None,
) -> TransferResultRead:
    """Hand the ticket to another team with a reason; the new team's strategy assigns it."""
    result = routing.transfer_ticket(
        uow,
        ticket_id=ticket_id,
        team_id=data.team_id,
        reason=data.reason,
        expected_version=expected_version(data.version, if_match),
        actor=actor,
        via=via,
    )
    uow.commit()
    return result


@ticket_router.get("/{ticket_id}/transfers", response_model=list[TransferRead])
def ticket_transfers(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> list[TransferRead]:
    return routing.transfers_of(uow, ticket_id=ticket_id, actor=actor)
