"""Which agent of a team gets a ticket (pure: the caller passes a snapshot and the time).

Only available agents receive work: status ``online`` and, when they have shifts, inside one
of them (a weekly list in each shift's time zone). Nobody gets a ticket that would take them
past their maximum of concurrent tickets or past their capacity (open tickets weighted by
priority, P1=4 … P4=1). VIP customers and P1 tickets go to senior agents whenever a senior
can take them. Among who is left the team's strategy chooses:

- ``manual``: nobody; the ticket waits in the team queue;
- ``round_robin``: whoever has waited longest since their last assignment;
- ``least_load``: the lowest load relative to capacity;
- ``skills``: the best match for the skills the ticket needs (most skills met, then the highest
  levels), then the least load; without needed skills, the least load.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from closeloop.routing.domain import (
    DEFAULT_CAPACITY,
    DEFAULT_MAX_CONCURRENT,
    AgentStatus,
    ShiftSpec,
    Strategy,
    needs_senior,
    weight_of,
)

_NEVER = datetime.min.replace(tzinfo=UTC)


class Reason(enum.StrEnum):
    """Why an agent was chosen, or why nobody was."""

    manual = "manual"
    no_members = "no_members"
    nobody_available = "nobody_available"
    all_at_capacity = "all_at_capacity"
    no_skill_match = "no_skill_match"
    round_robin = "round_robin"
    least_load = "least_load"
    best_skill_match = "best_skill_match"


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: int
    status: AgentStatus = AgentStatus.offline
    is_senior: bool = False
    capacity: int = DEFAULT_CAPACITY
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    open_tickets: int = 0
    load: int = 0
    skills: Mapping[int, int] = field(default_factory=dict)
    last_assigned_at: datetime | None = None
    shifts: tuple[ShiftSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketNeeds:
    priority: str = "P3"
    vip: bool = False
    required_skills: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choice:
    agent_id: int | None
    reason: Reason
    # Whether the choice was limited to senior agents (VIP or P1 with a senior who can take it).
    seniors_only: bool = False


def is_on_shift(agent: AgentSnapshot, now: datetime) -> bool:
    """Agents without shifts work whenever they are online."""
    return not agent.shifts or any(in_shift(shift, now) for shift in agent.shifts)


def in_shift(shift: ShiftSpec, now: datetime) -> bool:
    try:
        local = now.astimezone(ZoneInfo(shift.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    moment, weekday = local.time().replace(tzinfo=None), local.weekday()
    if shift.start < shift.end:
        return weekday == shift.weekday and shift.start <= moment < shift.end
    # Past midnight: the evening of its weekday and the early hours of the next day.
    return (weekday == shift.weekday and moment >= shift.start) or (
        weekday == (shift.weekday + 1) % 7 and moment < shift.end
    )


def is_available(agent: AgentSnapshot, now: datetime) -> bool:
    return agent.status is AgentStatus.online and is_on_shift(agent, now)


def has_room(agent: AgentSnapshot, priority: str) -> bool:
    """Taking one more ticket keeps the agent within both limits."""
    return (
        agent.open_tickets + 1 <= agent.max_concurrent
        and agent.load + weight_of(priority) <= agent.capacity
    )


def load_ratio(agent: AgentSnapshot) -> Fraction:
    return Fraction(agent.load, max(agent.capacity, 1))


def eligible(
    agents: Sequence[AgentSnapshot], ticket: TicketNeeds, now: datetime
) -> tuple[list[AgentSnapshot], Reason | None, bool]:
    """Who may take the ticket, or why nobody may; and whether only seniors were kept."""
    if not agents:
        return [], Reason.no_members, False
    available = [agent for agent in agents if is_available(agent, now)]
    if not available:
        return [], Reason.nobody_available, False
    with_room = [agent for agent in available if has_room(agent, ticket.priority)]
    if not with_room:
        return [], Reason.all_at_capacity, False
    if needs_senior(priority=ticket.priority, vip=ticket.vip):
        seniors = [agent for agent in with_room if agent.is_senior]
        if seniors:
            return seniors, None, True
    return with_room, None, False


def choose_agent(
    strategy: Strategy,
    ticket: TicketNeeds,
    agents: Sequence[AgentSnapshot],
    *,
    now: datetime,
) -> Choice:
    if strategy is Strategy.manual:
        return Choice(None, Reason.manual)
    pool, refusal, seniors_only = eligible(agents, ticket, now)
    if refusal is not None:
        return Choice(None, refusal)
    if strategy is Strategy.round_robin:
        chosen = min(pool, key=lambda a: (a.last_assigned_at or _NEVER, a.agent_id))
        return Choice(chosen.agent_id, Reason.round_robin, seniors_only)
    if strategy is Strategy.skills and ticket.required_skills:
        return _by_skills(pool, ticket, seniors_only)
    chosen = min(pool, key=_least_load_key)
    return Choice(chosen.agent_id, Reason.least_load, seniors_only)


def _least_load_key(agent: AgentSnapshot) -> tuple[Fraction, int, datetime, int]:
    return (
        load_ratio(agent),
        agent.open_tickets,
        agent.last_assigned_at or _NEVER,
        agent.agent_id,
    )


def skill_match(agent: AgentSnapshot, required: Mapping[int, int]) -> tuple[int, int]:
    """(skills met at the needed level, sum of the agent's levels in the needed skills)."""
    met = sum(1 for skill, level in required.items() if agent.skills.get(skill, 0) >= level)
    return met, sum(agent.skills.get(skill, 0) for skill in required)


def _by_skills(pool: list[AgentSnapshot], ticket: TicketNeeds, seniors_only: bool) -> Choice:
    scored = [(skill_match(agent, ticket.required_skills), agent) for agent in pool]
    matching = [(score, agent) for score, agent in scored if score[0] > 0]
    if not matching:
        return Choice(None, Reason.no_skill_match, seniors_only)
    _score, chosen = min(
        matching, key=lambda item: ((-item[0][0], -item[0][1]), _least_load_key(item[1]))
    )
    return Choice(chosen.agent_id, Reason.best_skill_match, seniors_only)
