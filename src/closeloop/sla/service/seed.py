"""The SLA every new installation (and the demo) starts with.

A 7x12 desk in Asia/Shanghai (every day 09:00-21:00, closed on the official holidays that
closeloop ships) and one policy: P1 tickets get a first response within 15 and a resolution
within 120 business minutes, every other priority a resolution within 1440 business minutes.
The ladder: tell the assignee at 75 %; at the breach tell the team lead; 30 minutes after the
breach tell the supervisors and raise the priority one step. Running it again changes nothing.
Tickets that exist already are measured in the background (``sla.recompute``, every ticket).
"""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.sla import repository
from closeloop.sla.clock import TargetKind
from closeloop.sla.domain import EscalationAction
from closeloop.sla.holidays import load_bundled_schedule
from closeloop.sla.schemas import (
    CalendarCreate,
    EscalationStepIn,
    PolicyCreate,
    SeedResult,
    TargetIn,
)
from closeloop.sla.service.calendars import apply_bundled_schedule, create_calendar
from closeloop.sla.service.clocks import request_recompute
from closeloop.sla.service.policies import create_policy
from closeloop.tickets.domain import Priority

DEFAULT_CALENDAR_NAME = "7x12 Asia/Shanghai"
DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_POLICY_NAME = "Default: P1 15 min / 2 h, others 24 h"
HOLIDAY_REGION = "CN"
FIRST_BUNDLED_YEAR = 2026
VIA = "sla:seed"


def default_targets() -> list[TargetIn]:
    targets = [
        TargetIn(priority=Priority.P1, kind=TargetKind.first_response, minutes=15),
        TargetIn(priority=Priority.P1, kind=TargetKind.resolution, minutes=120),
    ]
    targets += [
        TargetIn(priority=priority, kind=TargetKind.resolution, minutes=1440)
        for priority in (Priority.P2, Priority.P3, Priority.P4)
    ]
    return targets


def default_ladder(kinds: tuple[TargetKind, ...]) -> list[EscalationStepIn]:
    steps: list[EscalationStepIn] = []
    for kind in kinds:
        steps += [
            EscalationStepIn(kind=kind, at_fraction=0.75, action=EscalationAction.notify_assignee),
            EscalationStepIn(
                kind=kind, after_breach_minutes=0, action=EscalationAction.notify_team_lead
            ),
            EscalationStepIn(
                kind=kind, after_breach_minutes=30, action=EscalationAction.notify_manager
            ),
            EscalationStepIn(
                kind=kind, after_breach_minutes=30, action=EscalationAction.raise_priority
            ),
        ]
    return steps


def seed_default_sla(uow: UnitOfWork, *, actor: Principal, via: str = VIA) -> SeedResult:
    """Create the default calendar and policy unless they exist (by name)."""
    calendar = repository.calendar_by_name(uow.session, DEFAULT_CALENDAR_NAME)
    policy = repository.policy_by_name(uow.session, DEFAULT_POLICY_NAME)
    created_calendar, created_policy = calendar is None, policy is None
    if created_calendar or created_policy:
        # Tickets from before are measured too (in the background), so reports cover them.
        request_recompute(uow, include_finished=True)
    if calendar is None:
        calendar_id = create_calendar(
            uow,
            data=CalendarCreate(
                name=DEFAULT_CALENDAR_NAME,
                time_zone=DEFAULT_TIME_ZONE,
                preset="7x12",
                is_default=True,
            ),
            actor=actor,
            via=via,
        ).id
        this_year = uow.clock.now().year
        for year in sorted({FIRST_BUNDLED_YEAR, this_year, this_year + 1}):
            if load_bundled_schedule(HOLIDAY_REGION, year) is not None:
                apply_bundled_schedule(
                    uow,
                    calendar_id=calendar_id,
                    region=HOLIDAY_REGION,
                    year=year,
                    actor=actor,
                    via=via,
                )
    else:
        calendar_id = calendar.id
    if policy is None:
        policy_id = create_policy(
            uow,
            data=PolicyCreate(
                name=DEFAULT_POLICY_NAME,
                calendar_id=calendar_id,
                targets=default_targets(),
                escalations=default_ladder((TargetKind.first_response, TargetKind.resolution)),
            ),
            actor=actor,
            via=via,
        ).id
    else:
        policy_id = policy.id
    return SeedResult(
        calendar_id=calendar_id,
        policy_id=policy_id,
        created_calendar=created_calendar,
        created_policy=created_policy,
    )
