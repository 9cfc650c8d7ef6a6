"""Choosing an agent of a team for a ticket: the team's snapshot (availability, shifts, load,
skills, seniority) handed to the pure ``assigners``; and agents' availability settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.accounts.errors import AgentNotFound
from closeloop.accounts.management.domain import is_valid_time_zone
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.routing import assigners, permissions, repository
from closeloop.routing.assigners import AgentSnapshot, Choice, TicketNeeds
from closeloop.routing.domain import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_CONCURRENT,
    AgentStatus,
    DecisionSource,
    RoutedField,
    ShiftSpec,
    is_vip,
    shift_problems,
    weighted_load,
)
from closeloop.routing.errors import AvailabilityDenied, InvalidShift
from closeloop.routing.models import AgentAvailability, AgentShift
from closeloop.routing.schemas import AvailabilityRead, AvailabilityUpdate, ShiftIn, ShiftRead
from closeloop.routing.service._common import (
    decision_change,
    facts_for,
    record_decision,
    record_on_ticket,
    ticket_state,
)
from closeloop.routing.service.teams import strategy_of
from closeloop.tickets import service as tickets


def team_member_ids(uow: UnitOfWork, team_id: int) -> list[int]:
    team = accounts.get_team(uow, team_id)
    return management.present_teams(uow, [team])[0].member_ids


def snapshots(uow: UnitOfWork, agent_ids: Sequence[int]) -> list[tuple[AgentSnapshot, str]]:
    """Active agents among ``agent_ids`` as the assigners see them, with their names."""
    agents = [accounts.get_agent(uow, agent_id) for agent_id in agent_ids]
    agents = [agent for agent in agents if agent.is_active]
    ids = [agent.id for agent in agents]
    reads = management.present_agents(uow, agents)
    availability = repository.availabilities(uow.session, ids)
    shifts = repository.shifts_by_agent(uow.session, ids)
    work = tickets.open_work_by_assignee(uow, agent_ids=ids)
    found: list[tuple[AgentSnapshot, str]] = []
    for read in reads:
        row = availability.get(read.id)
        snapshot = AgentSnapshot(
            agent_id=read.id,
            status=AgentStatus(row.status) if row else AgentStatus.offline,
            is_senior=read.is_senior,
            capacity=row.capacity if row else DEFAULT_CAPACITY,
            max_concurrent=row.max_concurrent if row else DEFAULT_MAX_CONCURRENT,
            open_tickets=sum(work[read.id].values()),
            load=weighted_load(work[read.id]),
            skills={skill.skill_id: skill.level for skill in read.skills},
            last_assigned_at=row.last_assigned_at if row else None,
            shifts=tuple(_spec(shift) for shift in shifts[read.id]),
        )
        found.append((snapshot, read.name))
    return found


def _spec(shift: AgentShift) -> ShiftSpec:
    return ShiftSpec(shift.weekday, shift.start, shift.end, shift.time_zone)


def choose_for_team(
    uow: UnitOfWork,
    *,
    team_id: int,
    priority: str,
    vip: bool,
    required_skills: Mapping[int, int],
) -> tuple[str, Choice]:
    """The team's strategy and its choice. The team's routing row stays locked until commit
    (PostgreSQL), so concurrent intakes for one team take turns and round robin stays fair."""
    strategy = strategy_of(uow, team_id, for_update=True)
    team = [snapshot for snapshot, _name in snapshots(uow, team_member_ids(uow, team_id))]
    needs = TicketNeeds(priority=priority, vip=vip, required_skills=required_skills)
    return strategy.value, assigners.choose_agent(strategy, needs, team, now=uow.clock.now())


def note_assigned(uow: UnitOfWork, agent_id: int) -> None:
    """Remember when the agent last received a ticket (round robin's turn order)."""
    row = repository.availability(uow.session, agent_id, for_update=True)
    now = uow.clock.now()
    if row is None:
        row = _default_availability(agent_id, now)
        uow.session.add(row)
    row.last_assigned_at = now


# --- availability, capacity, shifts ------------------------------------------------------------


def _default_availability(agent_id: int, now: datetime) -> AgentAvailability:
    return AgentAvailability(
        agent_id=agent_id,
        status=AgentStatus.offline.value,
        capacity=DEFAULT_CAPACITY,
        max_concurrent=DEFAULT_MAX_CONCURRENT,
        last_assigned_at=None,
        updated_at=now,
    )


def availability_of(uow: UnitOfWork, *, agent_id: int, actor: Principal) -> AvailabilityRead:
    """The agent's availability (the defaults when never set) and weekly shifts."""
    if not permissions.can_read_availability(actor):
        raise AgentNotFound(agent_id=agent_id)  # customers do not see agents at all
    accounts.get_agent(uow, agent_id)
    row = repository.availability(uow.session, agent_id)
    shifts = repository.shifts_by_agent(uow.session, [agent_id])[agent_id]
    return AvailabilityRead(
        agent_id=agent_id,
        status=AgentStatus(row.status) if row else AgentStatus.offline,
        capacity=row.capacity if row else DEFAULT_CAPACITY,
        max_concurrent=row.max_concurrent if row else DEFAULT_MAX_CONCURRENT,
        last_assigned_at=row.last_assigned_at if row else None,
        updated_at=row.updated_at if row else None,
        shifts=[
            ShiftRead(weekday=s.weekday, start=s.start, end=s.end, time_zone=s.time_zone)
            for s in shifts
        ],
    )


def _require_availability_change(
    uow: UnitOfWork, agent_id: int, actor: Principal, fields: set[str]
) -> None:
    if not permissions.can_read_availability(actor):
        raise AgentNotFound(agent_id=agent_id)
    agent = accounts.get_agent(uow, agent_id)
    team_ids = management.present_agents(uow, [agent])[0].team_ids
    allowed = permissions.can_set_availability(
        actor, agent_id=agent_id, agent_team_ids=team_ids, fields=fields
    )
    if not allowed:
        raise AvailabilityDenied()


def update_availability(
    uow: UnitOfWork, *, agent_id: int, changes: AvailabilityUpdate, actor: Principal, via: str
) -> AgentAvailability:
    values = changes.given()
    _require_availability_change(uow, agent_id, actor, set(values))
    now = uow.clock.now()
    row = repository.availability(uow.session, agent_id, for_update=True)
    if row is None:
        row = _default_availability(agent_id, now)
        uow.session.add(row)
    applied: list[Change] = []
    for name, value in values.items():
        new = value.value if isinstance(value, AgentStatus) else value
        if getattr(row, name) != new:
            applied.append(Change(name, getattr(row, name), new))
            setattr(row, name, new)
    if applied:
        row.updated_at = now
        uow.session.flush()
        _record(uow, agent_id, "agent.availability_changed", applied, actor, via)
    return row


def replace_shifts(
    uow: UnitOfWork, *, agent_id: int, shifts: Sequence[ShiftIn], actor: Principal, via: str
) -> list[AgentShift]:
    """The agent's whole weekly schedule; an empty list means "whenever online"."""
    _require_availability_change(uow, agent_id, actor, {"shifts"})
    default_zone = accounts.get_organisation(uow).time_zone
    specs = [
        ShiftSpec(s.weekday, _minute(s.start), _minute(s.end), s.time_zone or default_zone)
        for s in shifts
    ]
    errors = [
        {"field": f"shifts.{index}", "code": "invalid", "message": message}
        for index, spec in enumerate(specs)
        for message in [*shift_problems(spec), *_zone_problems(spec.time_zone)]
    ]
    if errors:
        raise InvalidShift(errors=errors)
    before = repository.shifts_by_agent(uow.session, [agent_id])[agent_id]
    repository.delete_shifts(uow.session, agent_id)
    created = [
        AgentShift(
            agent_id=agent_id,
            weekday=spec.weekday,
            start=spec.start,
            end=spec.end,
            time_zone=spec.time_zone,
        )
        for spec in specs
    ]
    uow.session.add_all(created)
    uow.session.flush()
    _record(
        uow,
        agent_id,
        "agent.shifts_changed",
        [Change("shifts", [_shown(s) for s in before], [_shown(s) for s in created])],
        actor,
        via,
    )
    return created


def _minute(value: time) -> time:
    return value.replace(second=0, microsecond=0, tzinfo=None)


def _zone_problems(time_zone: str) -> list[str]:
    return [] if is_valid_time_zone(time_zone) else [f"Unknown time zone {time_zone}."]


def _shown(shift: AgentShift) -> str:
    return f"{shift.weekday} {shift.start:%H:%M}-{shift.end:%H:%M} {shift.time_zone}"


def _record(
    uow: UnitOfWork, agent_id: int, action: str, changes: list[Change], actor: Principal, via: str
) -> None:
    audit.record(
        uow,
        entity_type="agent",
        entity_id=agent_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
    )


def assign_within_team(uow: UnitOfWork, *, ticket_id: int, via: str) -> int | None:
    """Give an unassigned ticket to an agent of its team by the team's strategy (as the
    system), recording the decision; the agent, or None when the ticket waits in the queue."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    if ticket.team_id is None or ticket.assignee_id is not None:
        return None
    facts = facts_for(uow, ticket)
    state = ticket_state(uow, ticket_id)
    strategy, choice = choose_for_team(
        uow,
        team_id=ticket.team_id,
        priority=ticket.priority,
        vip=is_vip(customer_tier=facts.customer_tier, company_tier=facts.company_tier),
        required_skills={int(k): int(v) for k, v in state.required_skills.items()},
    )
    if choice.agent_id is not None:
        tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=ticket.team_id,
            assignee_id=choice.agent_id,
            expected_version=ticket.version,
            actor=SYSTEM,
            via=via,
        )
    decision = record_decision(
        uow,
        ticket_id=ticket_id,
        field=RoutedField.assignee,
        value=choice.agent_id,
        source=DecisionSource.assigner,
        detail=describe_choice(strategy, choice),
    )
    uow.session.flush()
    record_on_ticket(
        uow, ticket_id, action="routing.decided", changes=[decision_change(decision)], via=via
    )
    return choice.agent_id


def describe_choice(strategy: str, choice: Choice) -> str:
    """``round_robin: round_robin (seniors)``: the strategy, the reason, senior-only."""
    return f"{strategy}: {choice.reason.value}" + (" (seniors)" if choice.seniors_only else "")
