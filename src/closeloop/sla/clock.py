"""Replay a ticket's status history into the clock of one SLA target (pure: time is passed in).

A target (first response, next response, resolution) runs from ``started_at`` (the ticket's
creation, or the customer message that awaits a next response) until ``met_at`` (the reply or
the resolution). While the ticket is in a pausing status the clock stands still, which pushes the
due instant later. Elapsed and paused time are measured in the target's own time: business time
on the organisation's calendar, or plain calendar time.

The clock is evaluated *as of* ``now``: status changes and a ``met_at`` after ``now`` are not yet
known and are ignored, so the same history can be replayed at any instant. Re-targeting (a
priority change) is the same call with the new ``Target``: the history is kept.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from closeloop.sla.calendar import BusinessCalendar, add_business_time, business_time_between

PENDING_ON_CUSTOMER = "pending:customer"
DEFAULT_WARNING_FRACTIONS = (0.75,)
_ZERO = timedelta(0)


class TargetKind(enum.StrEnum):
    first_response = "first_response"
    next_response = "next_response"
    resolution = "resolution"


class TargetState(enum.StrEnum):
    running = "running"
    paused = "paused"
    warning = "warning"  # running, past a warning fraction, not yet due
    met = "met"  # satisfied on time (at or before the due instant)
    breached = "breached"  # due and not satisfied, or satisfied late (then met_at is set)


def status_key(status: str, pending_reason: str | None = None) -> str:
    """How a clock names a ticket status: ``"open"``, or ``"pending:customer"`` with a reason."""
    return f"{status}:{pending_reason}" if pending_reason else status


def default_paused_statuses(kind: TargetKind) -> frozenset[str]:
    """Waiting on the customer pauses resolution; response targets do not pause by default."""
    return frozenset({PENDING_ON_CUSTOMER}) if kind is TargetKind.resolution else frozenset()


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    minutes: int
    business_time: bool = True

    def __post_init__(self) -> None:
        if self.minutes <= 0:
            raise ValueError(f"a target needs a positive number of minutes, got {self.minutes}")

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class StatusChange:
    """From ``at`` on, the ticket has ``status`` (a ``status_key`` string)."""

    at: datetime
    status: str


@dataclass(frozen=True)
class ClockState:
    kind: TargetKind
    state: TargetState
    due_at: datetime  # while paused: the due instant if the clock resumed now
    elapsed: timedelta  # counted while running, in the target's time
    paused: timedelta  # spent paused, in the target's time
    remaining: timedelta  # target minus elapsed: zero or negative once breached
    warning_at: tuple[datetime, ...]  # one instant per warning fraction (projected like due_at)
    breached_at: datetime | None
    met_at: datetime | None


def compute_clock(
    target: Target,
    *,
    calendar: BusinessCalendar,
    started_at: datetime,
    now: datetime,
    history: Sequence[StatusChange] = (),
    met_at: datetime | None = None,
    paused_statuses: frozenset[str] | None = None,
    warning_fractions: Sequence[float] = DEFAULT_WARNING_FRACTIONS,
) -> ClockState:
    """The clock of ``target`` as of ``now``.

    ``history`` is chronological; before its first change the clock runs. ``paused_statuses``
    defaults to ``default_paused_statuses(target.kind)``. Warning fractions lie in (0, 1).
    """
    start = _utc(started_at, "started_at")
    current = _utc(now, "now")
    met = None if met_at is None else _utc(met_at, "met_at")
    if met is not None and met < start:
        raise ValueError("met_at is before started_at")
    if met is not None and met > current:
        met = None  # not yet known as of now
    for fraction in warning_fractions:
        if not 0 < fraction < 1:
            raise ValueError(f"a warning fraction lies between 0 and 1, got {fraction}")
    pausing = default_paused_statuses(target.kind) if paused_statuses is None else paused_statuses
    stop = max(start, met or current)
    segments, paused_at_stop = _segments(history, start, stop, pausing)

    def measure(low: datetime, high: datetime) -> timedelta:
        return business_time_between(calendar, low, high) if target.business_time else high - low

    def advance(at: datetime, amount: timedelta) -> datetime:
        return add_business_time(calendar, at, amount) if target.business_time else at + amount

    running: list[tuple[datetime, timedelta]] = []
    paused = _ZERO
    for low, high, is_paused in segments:
        if is_paused:
            paused += measure(low, high)
        else:
            running.append((low, measure(low, high)))
    elapsed = sum((amount for _, amount in running), _ZERO)

    def instant_when(amount: timedelta) -> datetime:
        """When the running time reaches ``amount`` (projected from ``stop`` if it has not)."""
        counted = _ZERO
        for low, length in running:
            if counted + length >= amount:
                return advance(low, amount - counted)
            counted += length
        return advance(stop, amount - counted)

    due_at = instant_when(target.duration)
    if met is not None:
        state = TargetState.met if met <= due_at else TargetState.breached
    elif elapsed >= target.duration:
        state = TargetState.breached
    elif paused_at_stop:
        state = TargetState.paused
    elif any(elapsed >= target.duration * fraction for fraction in warning_fractions):
        state = TargetState.warning
    else:
        state = TargetState.running
    return ClockState(
        kind=target.kind,
        state=state,
        due_at=due_at,
        elapsed=elapsed,
        paused=paused,
        remaining=target.duration - elapsed,
        warning_at=tuple(instant_when(target.duration * f) for f in warning_fractions),
        breached_at=due_at if state is TargetState.breached else None,
        met_at=met,
    )


def _segments(
    history: Sequence[StatusChange], start: datetime, stop: datetime, pausing: frozenset[str]
) -> tuple[list[tuple[datetime, datetime, bool]], bool]:
    """``[start, stop)`` cut at each status change: (from, to, paused); and paused at ``stop``."""
    marks: list[tuple[datetime, bool]] = [(start, False)]
    previous: datetime | None = None
    for change in history:
        at = _utc(change.at, "a status change")
        if previous is not None and at < previous:
            raise ValueError("status history must be in chronological order")
        previous = at
        if at <= start:
            marks[0] = (start, change.status in pausing)
        elif at <= stop:
            marks.append((at, change.status in pausing))
    ends = [at for at, _ in marks[1:]] + [stop]
    segments = [
        (low, high, paused) for (low, paused), high in zip(marks, ends, strict=True) if high > low
    ]
    return segments, marks[-1][1]


def _utc(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)
