"""Choose the SLA policy and the targets for a ticket (pure: no database, no clock).

Policies are ordered; the first *active* one whose conditions all hold applies. A condition is
a list of accepted values for one ticket attribute: the attribute must be one of them (OR within
a list), every listed field must hold (AND across fields), and an empty or missing list accepts
anything. For tags the ticket must carry at least one of the listed tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from closeloop.sla.clock import Target, TargetKind

CONDITION_FIELDS: tuple[str, ...] = (
    "priorities",
    "types",
    "channels",
    "customer_tiers",
    "company_ids",
    "team_ids",
    "tags",
)
_INTEGER_FIELDS = frozenset({"company_ids", "team_ids"})


@dataclass(frozen=True)
class Conditions:
    """Accepted values per ticket attribute; an empty tuple accepts anything."""

    priorities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    customer_tiers: tuple[str, ...] = ()
    company_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    def as_json(self) -> dict[str, list[Any]]:
        """Only the fields that constrain something, in the fixed field order."""
        return {name: list(getattr(self, name)) for name in CONDITION_FIELDS if getattr(self, name)}


def conditions_from_json(document: Mapping[str, Any] | None) -> Conditions:
    """Read conditions stored as JSON; raises ``ValueError`` naming the offending field."""
    if document is None:
        return Conditions()
    unknown = sorted(set(document) - set(CONDITION_FIELDS))
    if unknown:
        raise ValueError(f"unknown condition fields {unknown}, expected some of {CONDITION_FIELDS}")
    values: dict[str, tuple[Any, ...]] = {}
    for name in CONDITION_FIELDS:
        raw = document.get(name) or []
        if not isinstance(raw, list | tuple):
            raise ValueError(f"condition {name!r} must be a list")
        if name in _INTEGER_FIELDS:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
                raise ValueError(f"condition {name!r} must list integer ids")
        elif not all(isinstance(v, str) and v for v in raw):
            raise ValueError(f"condition {name!r} must list non-empty strings")
        values[name] = tuple(dict.fromkeys(raw))
    return Conditions(**values)


@dataclass(frozen=True)
class TicketFacts:
    """What a policy may look at. ``customer_tier`` is the requester's (``vip`` when either the
    customer or their company is)."""

    priority: str
    type: str
    channel: str
    customer_tier: str = "standard"
    company_id: int | None = None
    team_id: int | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PolicyRule:
    id: int
    name: str
    position: int
    is_active: bool
    conditions: Conditions


@dataclass(frozen=True)
class Check:
    """One condition field tested against the ticket: what was wanted, what the ticket has."""

    field: str
    wanted: tuple[Any, ...]
    actual: Any
    holds: bool


@dataclass(frozen=True)
class Evaluation:
    policy: PolicyRule
    matched: bool
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class MatchResult:
    chosen: PolicyRule | None
    evaluations: tuple[Evaluation, ...] = field(default_factory=tuple)


def check_conditions(conditions: Conditions, facts: TicketFacts) -> tuple[Check, ...]:
    """The constraining fields of ``conditions``, each tested against ``facts``."""
    single: dict[str, Any] = {
        "priorities": facts.priority,
        "types": facts.type,
        "channels": facts.channel,
        "customer_tiers": facts.customer_tier,
        "company_ids": facts.company_id,
        "team_ids": facts.team_id,
    }
    checks: list[Check] = []
    for name in CONDITION_FIELDS:
        wanted: tuple[Any, ...] = getattr(conditions, name)
        if not wanted:
            continue
        if name == "tags":
            actual: Any = sorted(facts.tags)
            holds = not facts.tags.isdisjoint(wanted)
        else:
            actual = single[name]
            holds = actual in wanted
        checks.append(Check(field=name, wanted=wanted, actual=actual, holds=holds))
    return tuple(checks)


def matches(conditions: Conditions, facts: TicketFacts) -> bool:
    return all(check.holds for check in check_conditions(conditions, facts))


def ordered(policies: Iterable[PolicyRule]) -> list[PolicyRule]:
    """Policies in the order they are tried: by position, then by id."""
    return sorted(policies, key=lambda p: (p.position, p.id))


def choose_policy(policies: Iterable[PolicyRule], facts: TicketFacts) -> PolicyRule | None:
    """The first active policy, in position order, whose conditions hold for ``facts``."""
    for policy in ordered(policies):
        if policy.is_active and matches(policy.conditions, facts):
            return policy
    return None


def explain_match(policies: Iterable[PolicyRule], facts: TicketFacts) -> MatchResult:
    """Every policy in order with each condition tested; the chosen one is the first that
    is active and matches (inactive policies are shown, never chosen)."""
    evaluations: list[Evaluation] = []
    chosen: PolicyRule | None = None
    for policy in ordered(policies):
        checks = check_conditions(policy.conditions, facts)
        matched = all(check.holds for check in checks)
        evaluations.append(Evaluation(policy=policy, matched=matched, checks=checks))
        if chosen is None and matched and policy.is_active:
            chosen = policy
    return MatchResult(chosen=chosen, evaluations=tuple(evaluations))


@dataclass(frozen=True)
class TargetRule:
    priority: str
    kind: TargetKind
    minutes: int
    business_time: bool = True


def targets_for(rules: Sequence[TargetRule], priority: str) -> dict[TargetKind, Target]:
    """The targets of one priority, by kind (a kind without a rule has no target)."""
    found: dict[TargetKind, Target] = {}
    for rule in rules:
        if rule.priority == priority and rule.kind not in found:
            found[rule.kind] = Target(rule.kind, rule.minutes, rule.business_time)
    return found
