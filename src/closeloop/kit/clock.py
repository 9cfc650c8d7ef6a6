"""The only place that asks the operating system for the time.

Code receives a :class:`Clock` and calls ``clock.now()``; tests pass a :class:`FrozenClock`.
Every instant is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive values are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: every instant must carry a time zone")
    return value.astimezone(UTC)
