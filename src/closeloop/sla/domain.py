"""The SLA rules that sit between the stored data and the pure calendar and clock (pure).

- Working hours as stored (``{"mon": ["09:00-12:00", "13:00-21:00"], ...}``) ↔ the calendar.
- A ticket's history (its audit rows) → the status changes and messages the clocks replay.
- When each target's clock starts and stops:
  * first response: from the ticket's creation to the first public reply;
  * next response: from a customer message that arrives after the first response while no
    other one waits, to the next public reply (each such wait is a new *cycle*);
  * resolution: from creation to the ticket's (last) resolution; time spent resolved before a
    reopen does not count.
  Resolving (or closing) a ticket also satisfies a response target that is still waiting.
- Evaluating one target as of an instant, including which ladder steps are due and the next
  instant at which anything happens without a change to the ticket (the scan's index).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from closeloop.sla.calendar import END_OF_DAY, BusinessCalendar, DayHours, Interval
from closeloop.sla.clock import (
    ClockState,
    StatusChange,
    Target,
    TargetKind,
    TargetState,
    compute_clock,
    default_paused_statuses,
    status_key,
)
from closeloop.sla.escalation import EscalationStep, due_steps

WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FINISHED_STATUSES = frozenset({"resolved", "closed"})
# Steps due longer ago than this (the workers were down) are recorded as expired, not acted on.
MAX_LATENESS = timedelta(hours=24)
DEFAULT_WARNING_FRACTION = 0.75


class EscalationAction(enum.StrEnum):
    notify_assignee = "notify_assignee"
    notify_team_lead = "notify_team_lead"
    notify_manager = "notify_manager"
    raise_priority = "raise_priority"
    reassign_team = "reassign_team"


class DayKind(enum.StrEnum):
    holiday = "holiday"
    makeup_workday = "makeup_workday"


class FiringOutcome(enum.StrEnum):
    done = "done"
    skipped = "skipped"
    expired = "expired"


# Worst first: the ticket list shows the worst state of a ticket's clocks.
STATE_SEVERITY: Mapping[TargetState, int] = {
    TargetState.breached: 4,
    TargetState.warning: 3,
    TargetState.running: 2,
    TargetState.paused: 1,
    TargetState.met: 0,
}


def worst_state(states: Iterable[TargetState]) -> TargetState | None:
    found = list(states)
    return max(found, key=STATE_SEVERITY.__getitem__) if found else None


def raised_priority(priority: str) -> str | None:
    """One step more urgent (``P3`` → ``P2``); ``None`` for ``P1``."""
    rank = int(priority[1:])
    return f"P{rank - 1}" if rank > 1 else None


# --- working hours ------------------------------------------------------------------------


def parse_clock_time(text: str, *, is_end: bool) -> time:
    """``"09:30"``; ``"24:00"`` is accepted as the end of the day."""
    hours, separator, minutes = text.strip().partition(":")
    if not separator or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time like 09:00")
    hour, minute = int(hours), int(minutes)
    if is_end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"{text!r} is not a time of day")
    return time(hour, minute)


def parse_interval(text: str) -> Interval:
    """``"09:00-12:00"`` → ``(time(9), time(12))``; ``"00:00-24:00"`` is a whole day."""
    start, separator, end = text.partition("-")
    if not separator:
        raise ValueError(f"{text!r} is not an interval like 09:00-18:00")
    return parse_clock_time(start, is_end=False), parse_clock_time(end, is_end=True)


def format_interval(interval: Interval) -> str:
    start, end = interval
    shown_end = "24:00" if end == END_OF_DAY else f"{end:%H:%M}"
    return f"{start:%H:%M}-{shown_end}"


def parse_day_hours(entries: Any, where: str) -> DayHours:
    if not isinstance(entries, list | tuple) or not all(isinstance(e, str) for e in entries):
        raise ValueError(f'{where}: expected a list of intervals like "09:00-18:00"')
    try:
        return tuple(parse_interval(entry) for entry in entries)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def parse_weekly_hours(document: Mapping[str, Any]) -> dict[int, DayHours]:
    """``{"mon": ["09:00-18:00"], ...}`` → weekday number → intervals (missing days are off)."""
    if not isinstance(document, Mapping):
        raise ValueError("weekly_hours: expected an object with keys mon … sun")
    unknown = sorted(set(document) - set(WEEKDAY_KEYS))
    if unknown:
        raise ValueError(f"weekly_hours: unknown days {unknown}, use {list(WEEKDAY_KEYS)}")
    return {
        WEEKDAY_KEYS.index(key): parse_day_hours(entries, f"weekly_hours.{key}")
        for key, entries in document.items()
        if entries
    }


def format_weekly_hours(calendar: BusinessCalendar) -> dict[str, list[str]]:
    return {
        WEEKDAY_KEYS[day]: [format_interval(i) for i in hours]
        for day, hours in sorted(calendar.weekly_hours.items())
        if hours
    }


PRESETS: Mapping[str, Mapping[str, list[str]]] = {
    "24x7": {key: ["00:00-24:00"] for key in WEEKDAY_KEYS},
    "7x12": {key: ["09:00-21:00"] for key in WEEKDAY_KEYS},
    "weekdays": {key: ["09:00-18:00"] for key in WEEKDAY_KEYS[:5]},
}


@dataclass(frozen=True)
class CalendarDaySpec:
    date: date
    kind: DayKind
    hours: DayHours | None = None  # make-up workdays: None means the usual weekday hours


def build_calendar(
    time_zone: str, weekly_hours: Mapping[str, Any], days: Iterable[CalendarDaySpec] = ()
) -> BusinessCalendar:
    """The pure calendar of stored settings; raises ``ValueError`` saying what is wrong."""
    base = BusinessCalendar(time_zone, parse_weekly_hours(weekly_hours))
    holidays: set[date] = set()
    makeup: dict[date, DayHours] = {}
    for day in days:
        if day.kind is DayKind.holiday:
            holidays.add(day.date)
            continue
        hours = day.hours or base.usual_weekday_hours
        if not hours:
            raise ValueError(
                f"make-up workday {day.date}: the calendar has no weekday hours, give its hours"
            )
        makeup[day.date] = hours
    if not holidays and not makeup:
        return base
    return BusinessCalendar(
        time_zone, base.weekly_hours, holidays=frozenset(holidays), makeup_workdays=makeup
    )


# --- a ticket's history -------------------------------------------------------------------


class HistoryKind(enum.StrEnum):
    status = "status"
    customer_message = "customer_message"
    public_reply = "public_reply"


@dataclass(frozen=True)
class AuditFact:
    """One audit row of the ticket, reduced to what the clocks read."""

    at: datetime
    action: str
    field: str | None
    new_value: Any


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    kind: HistoryKind
    status: str | None = None  # a status key, for status events


@dataclass(frozen=True)
class TicketHistory:
    created_at: datetime
    events: tuple[HistoryEvent, ...]

    @property
    def status_changes(self) -> tuple[StatusChange, ...]:
        return tuple(
            StatusChange(e.at, e.status or "") for e in self.events if e.kind is HistoryKind.status
        )

    @property
    def current_status(self) -> str | None:
        for event in reversed(self.events):
            if event.kind is HistoryKind.status:
                return event.status
        return None


def history_from_audit(created_at: datetime, facts: Iterable[AuditFact]) -> TicketHistory:
    """Status changes (as ``status_key`` strings) and public messages, in the trail's order.

    Rows written by one change share their instant and action: the status and the pending
    reason they set become one status event, after the message the change added.
    """
    events: list[HistoryEvent] = []
    status: str | None = None
    reason: str | None = None
    shown: str | None = None
    group: tuple[datetime, str] | None = None

    def close_group() -> None:
        nonlocal shown
        if group is None or status is None:
            return
        key = status_key(status, reason if status == "pending" else None)
        if key != shown:
            events.append(HistoryEvent(group[0], HistoryKind.status, key))
            shown = key

    for fact in facts:
        if (fact.at, fact.action) != group:
            close_group()
            group = (fact.at, fact.action)
        if fact.field == "status" and isinstance(fact.new_value, str):
            status = fact.new_value
        elif fact.field == "pending_reason":
            reason = fact.new_value if isinstance(fact.new_value, str) else None
        elif fact.field == "message" and isinstance(fact.new_value, Mapping):
            kind = fact.new_value.get("kind")
            if kind in (HistoryKind.customer_message.value, HistoryKind.public_reply.value):
                events.append(HistoryEvent(fact.at, HistoryKind(kind)))
    close_group()
    return TicketHistory(created_at=created_at, events=tuple(events))


@dataclass(frozen=True)
class ClockSpan:
    """When one target's clock started and (if it did) stopped."""

    kind: TargetKind
    cycle: int
    started_at: datetime
    met_at: datetime | None


def clock_spans(history: TicketHistory) -> dict[TargetKind, ClockSpan]:
    """The span of each target kind that applies to the ticket now (latest next-response cycle)."""
    first_reply: datetime | None = None
    finished_at: datetime | None = None  # entered resolved/closed and still there
    first_finish: datetime | None = None
    cycle = 0
    cycle_start: datetime | None = None
    cycle_met: datetime | None = None
    for event in history.events:
        if event.kind is HistoryKind.public_reply:
            if first_reply is None:
                first_reply = event.at
            elif cycle_start is not None and cycle_met is None:
                cycle_met = event.at
        elif event.kind is HistoryKind.customer_message:
            answered = first_reply is not None or first_finish is not None
            if answered and (cycle_start is None or cycle_met is not None):
                cycle += 1
                cycle_start, cycle_met = event.at, None
        else:
            finished = _base_status(event.status) in FINISHED_STATUSES
            if finished and finished_at is None:
                finished_at = event.at
                first_finish = first_finish or event.at
                if cycle_start is not None and cycle_met is None:
                    cycle_met = event.at
            elif not finished:
                finished_at = None
    first_met = first_reply
    if first_finish is not None and (first_met is None or first_finish < first_met):
        first_met = first_finish
    spans = {
        TargetKind.first_response: ClockSpan(
            TargetKind.first_response, 1, history.created_at, first_met
        ),
        TargetKind.resolution: ClockSpan(TargetKind.resolution, 1, history.created_at, finished_at),
    }
    if cycle_start is not None:
        spans[TargetKind.next_response] = ClockSpan(
            TargetKind.next_response, cycle, cycle_start, cycle_met
        )
    return spans


def _base_status(key: str | None) -> str:
    return (key or "").partition(":")[0]


# --- evaluating one target ----------------------------------------------------------------


@dataclass(frozen=True)
class LadderStep:
    position: int
    step: EscalationStep
    team_id: int | None = None


@dataclass(frozen=True)
class Evaluation:
    """One target's clock as of ``now``, the ladder steps due now and the next check."""

    state: ClockState
    warning_at: datetime | None
    due_positions: tuple[int, ...]
    step_instants: Mapping[int, datetime]
    next_check_at: datetime | None


def evaluate(
    target: Target,
    span: ClockSpan,
    *,
    calendar: BusinessCalendar,
    history: TicketHistory,
    now: datetime,
    paused_statuses: frozenset[str] | None = None,
    warning_fractions: Sequence[float] = (DEFAULT_WARNING_FRACTION,),
    ladder: Sequence[LadderStep] = (),
    fired: frozenset[int] = frozenset(),
) -> Evaluation:
    """Replay ``history`` into ``target``'s clock; resolved and closed always stop it."""
    pausing = (
        default_paused_statuses(target.kind) if paused_statuses is None else paused_statuses
    ) | FINISHED_STATUSES
    fractions = sorted(
        set(warning_fractions) | {s.step.at_fraction for s in ladder if s.step.at_fraction}
    )
    raw = compute_clock(
        target,
        calendar=calendar,
        started_at=span.started_at,
        now=now,
        history=history.status_changes,
        met_at=span.met_at,
        paused_statuses=frozenset(pausing),
        warning_fractions=fractions,
    )
    instant_of = dict(zip(fractions, raw.warning_at, strict=True))
    warned = any(raw.elapsed >= target.duration * f for f in warning_fractions)
    state = raw
    if raw.state is TargetState.warning and not warned:
        state = replace(raw, state=TargetState.running)
    state = replace(state, warning_at=tuple(instant_of[f] for f in sorted(warning_fractions)))
    step_instants = {
        s.position: (
            instant_of[s.step.at_fraction]
            if s.step.at_fraction is not None
            else raw.due_at + (s.step.after_breach or timedelta(0))
        )
        for s in ladder
    }
    steps = [s.step for s in ladder]
    fired_indexes = frozenset(i for i, s in enumerate(ladder) if s.position in fired)
    due = tuple(ladder[i].position for i in due_steps(state, target, steps, fired_indexes, now))
    return Evaluation(
        state=state,
        warning_at=state.warning_at[0] if state.warning_at else None,
        due_positions=due,
        step_instants=step_instants,
        next_check_at=_next_check(state, now, step_instants, fired, due),
    )


def _next_check(
    state: ClockState,
    now: datetime,
    step_instants: Mapping[int, datetime],
    fired: frozenset[int],
    due: Sequence[int],
) -> datetime | None:
    if state.met_at is not None:
        return None
    candidates = [step_instants[p] for p in due]
    if state.state in (TargetState.running, TargetState.warning):
        candidates += [w for w in state.warning_at if w > now]
        candidates.append(state.due_at)
        candidates += [at for p, at in step_instants.items() if p not in fired]
    elif state.state is TargetState.breached:
        candidates += [at for p, at in step_instants.items() if p not in fired and at > now]
    return min(candidates) if candidates else None


def is_expired(instant: datetime, now: datetime) -> bool:
    """A step due so long ago that acting now would only be noise."""
    return now - instant > MAX_LATENESS


def summarise(
    clocks: Iterable[tuple[TargetState, datetime, datetime | None]],
) -> tuple[datetime | None, TargetState | None]:
    """The ticket's summary of its clocks, given as (state, due instant, met instant): the
    earliest due instant of the unpaused, unmet ones and the worst state of all of them."""
    found = list(clocks)
    running = [due for state, due, met in found if met is None and state is not TargetState.paused]
    return (min(running) if running else None), worst_state(state for state, _, _ in found)
