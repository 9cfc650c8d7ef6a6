"""The vocabulary of routing and its small rules (pure: no database, no clock)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time


class Strategy(enum.StrEnum):
    """How a team's new tickets find an agent (chosen by the team lead)."""

    manual = "manual"
    round_robin = "round_robin"
    least_load = "least_load"
    skills = "skills"


class AgentStatus(enum.StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


class DecisionSource(enum.StrEnum):
    """Why a ticket field has its value: a rule, the classifier, a person, or an assigner."""

    rule = "rule"
    model = "model"
    manual = "manual"
    assigner = "assigner"


class RoutedField(enum.StrEnum):
    """The fields triage decides (the classifier's label names)."""

    type = "type"
    priority = "priority"
    team = "team"
    assignee = "assignee"


# The ticket fields whose later correction by an agent is feedback for the classifier.
LEARNED_FIELDS: tuple[RoutedField, ...] = (RoutedField.type, RoutedField.priority, RoutedField.team)

# Load weight of one open ticket, by priority (least-load assignment).
PRIORITY_WEIGHTS: Mapping[str, int] = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}
DEFAULT_WEIGHT = 2

DEFAULT_CAPACITY = 20
DEFAULT_MAX_CONCURRENT = 10
DEFAULT_PING_PONG_THRESHOLD = 3
WEEKDAYS = range(7)  # Monday is 0, as in ``date.weekday()``


def weight_of(priority: str) -> int:
    return PRIORITY_WEIGHTS.get(priority, DEFAULT_WEIGHT)


def weighted_load(open_by_priority: Mapping[str, int]) -> int:
    """Open tickets weighted by priority (P1=4 … P4=1)."""
    return sum(weight_of(priority) * count for priority, count in open_by_priority.items())


def is_vip(*, customer_tier: str | None, company_tier: str | None) -> bool:
    return "vip" in (customer_tier, company_tier)


def needs_senior(*, priority: str, vip: bool) -> bool:
    """VIP customers and P1 tickets go to senior agents (whenever one can take them)."""
    return vip or priority == "P1"


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """One weekly working period of an agent, in a time zone; may run past midnight."""

    weekday: int
    start: time
    end: time
    time_zone: str


def shift_problems(shift: ShiftSpec) -> list[str]:
    """What is wrong with a shift (empty when it is valid)."""
    problems: list[str] = []
    if shift.weekday not in WEEKDAYS:
        problems.append("weekday must be 0 (Monday) … 6 (Sunday)")
    if shift.start == shift.end:
        problems.append("a shift must not start and end at the same time")
    return problems


def is_ping_pong(*, transfers: int, threshold: int) -> bool:
    """A ticket passed between teams ``threshold`` times is going back and forth."""
    return threshold > 0 and transfers >= threshold
