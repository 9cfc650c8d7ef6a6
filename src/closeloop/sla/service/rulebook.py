"""The organisation's SLA settings, loaded once per configuration version as pure values.

Recomputing a clock needs every active policy (to choose one), its targets, ladder and
calendar. They are read in a handful of statements and kept in a per-process cache keyed by the
database and the ``sla`` configuration version (``closeloop.db.config_versions``): each
transaction reads the version (one small query shared with routing) and reloads the rulebook
only when another transaction, in any process, changed the settings since it was built. Every
write in ``calendars`` and ``policies`` calls :func:`forget`, which gives the settings a new
version in the writer's transaction; that transaction reads its own, uncommitted settings.
Within a transaction the rulebook is also kept in the session's ``info`` (cleared at commit and
rollback).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from closeloop.db import config_versions
from closeloop.db.session import UnitOfWork
from closeloop.kit.versioned_cache import VersionedCache
from closeloop.sla import repository
from closeloop.sla.calendar import BusinessCalendar, twenty_four_seven
from closeloop.sla.clock import TargetKind
from closeloop.sla.domain import (
    CalendarDaySpec,
    DayKind,
    LadderStep,
    build_calendar,
    parse_day_hours,
)
from closeloop.sla.escalation import EscalationStep
from closeloop.sla.models import CalendarDay, SlaPolicy
from closeloop.sla.policy import PolicyRule, TargetRule, conditions_from_json

_INFO_KEY = "sla.rulebook"
# Without any calendar, business time is plain time.
FALLBACK_CALENDAR = twenty_four_seven("UTC")


@dataclass(frozen=True)
class PolicySetup:
    rule: PolicyRule
    calendar_id: int | None
    targets: tuple[TargetRule, ...]
    paused: Mapping[TargetKind, frozenset[str]]
    warning_fractions: tuple[float, ...]
    ladders: Mapping[TargetKind, tuple[LadderStep, ...]]


@dataclass
class Rulebook:
    policies: tuple[PolicyRule, ...] = ()
    setups: dict[int, PolicySetup] = field(default_factory=dict)
    calendars: dict[int, BusinessCalendar] = field(default_factory=dict)
    default_calendar_id: int | None = None

    def calendar_for(self, setup: PolicySetup) -> BusinessCalendar:
        calendar_id = setup.calendar_id or self.default_calendar_id
        if calendar_id is None or calendar_id not in self.calendars:
            return FALLBACK_CALENDAR
        return self.calendars[calendar_id]


# The rulebooks of this process, per database, with the version they were built at. A
# Rulebook is never changed once built: threads share it.
PROCESS_CACHE: VersionedCache[Rulebook] = VersionedCache()


def rulebook(uow: UnitOfWork) -> Rulebook:
    cached = uow.session.info.get(_INFO_KEY)
    if isinstance(cached, Rulebook):
        return cached
    version = config_versions.version_of(uow, config_versions.SLA)
    loaded = PROCESS_CACHE.get(config_versions.database_key(uow), version, lambda: _load(uow))
    uow.session.info[_INFO_KEY] = loaded
    # The next transaction checks the version again (another process may change the settings).
    uow.after_commit(lambda: forget_loaded(uow))
    return loaded


def forget_loaded(uow: UnitOfWork) -> None:
    uow.session.info.pop(_INFO_KEY, None)


def forget(uow: UnitOfWork) -> None:
    """The settings changed in this unit of work: give them a new version (every process
    reloads them once this commits) and read them afresh in this transaction."""
    config_versions.bump(uow, config_versions.SLA)
    forget_loaded(uow)


def day_spec(day: CalendarDay) -> CalendarDaySpec:
    hours = parse_day_hours(day.hours, f"{day.date}") if day.hours else None
    return CalendarDaySpec(date=day.date, kind=DayKind(day.kind), hours=hours)


def paused_of(policy: SlaPolicy) -> dict[TargetKind, frozenset[str]]:
    return {
        TargetKind(kind): frozenset(statuses)
        for kind, statuses in (policy.paused_statuses or {}).items()
    }


def warning_fractions_of(policy: SlaPolicy) -> tuple[float, ...]:
    return tuple(sorted(float(f) for f in policy.warning_fractions))


def _load(uow: UnitOfWork) -> Rulebook:
    session = uow.session
    book = Rulebook()
    stored_calendars = repository.calendars(session)
    days: defaultdict[int, list[CalendarDaySpec]] = defaultdict(list)
    for day in repository.days_of(session, [c.id for c in stored_calendars]):
        days[day.calendar_id].append(day_spec(day))
    for calendar in stored_calendars:
        book.calendars[calendar.id] = build_calendar(
            calendar.time_zone, calendar.weekly_hours, days[calendar.id]
        )
        if calendar.is_default and book.default_calendar_id is None:
            book.default_calendar_id = calendar.id
    policies = repository.policies(session)
    ids = [p.id for p in policies]
    targets: defaultdict[int, list[TargetRule]] = defaultdict(list)
    for target in repository.targets_of(session, ids):
        targets[target.policy_id].append(
            TargetRule(
                priority=target.priority,
                kind=TargetKind(target.kind),
                minutes=target.minutes,
                business_time=target.business_time,
            )
        )
    ladders: defaultdict[int, defaultdict[TargetKind, list[LadderStep]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for step in repository.steps_of(session, ids):
        ladders[step.policy_id][TargetKind(step.kind)].append(
            LadderStep(
                position=step.position,
                step=EscalationStep(
                    at_fraction=step.at_fraction,
                    after_breach=(
                        None
                        if step.after_breach_minutes is None
                        else timedelta(minutes=step.after_breach_minutes)
                    ),
                    action=step.action,
                ),
                team_id=step.team_id,
            )
        )
    rules: list[PolicyRule] = []
    for policy in policies:
        rule = PolicyRule(
            id=policy.id,
            name=policy.name,
            position=policy.position,
            is_active=policy.is_active,
            conditions=conditions_from_json(policy.conditions),
        )
        rules.append(rule)
        book.setups[policy.id] = PolicySetup(
            rule=rule,
            calendar_id=policy.calendar_id,
            targets=tuple(targets[policy.id]),
            paused=paused_of(policy),
            warning_fractions=warning_fractions_of(policy),
            ladders={kind: tuple(steps) for kind, steps in ladders[policy.id].items()},
        )
    book.policies = tuple(rules)
    return book
