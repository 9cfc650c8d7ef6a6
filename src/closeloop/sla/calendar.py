"""Business-time arithmetic on an organisation's working calendar (pure: no database, no clock).

Instants go in and come out as aware datetimes (results are in UTC). Local wall-clock time
exists only in this module: working hours are wall-clock intervals in the calendar's IANA zone.

Semantics, decided once and relied on by ``clock.py``:

- Working time is a set of half-open intervals ``[start, end)``: 21:00 is not business time on a
  09:00-21:00 day. An interval end of 00:00 (``END_OF_DAY``) means midnight at the end of the day.
- A local bound ``T`` on day ``D`` becomes the first instant at which the local clock shows ``T``
  or later. A time repeated when clocks go back is its first occurrence (zoneinfo ``fold=0``); a
  time skipped when clocks go forward moves forward to the instant the clock jumps past it. So a
  working day that crosses a DST change counts the real elapsed time (a 24x7 New York day in
  March lasts 23 hours, in November 25).
- ``add_business_time(calendar, start, d)`` is the earliest instant by which ``d`` of working
  time has passed since ``start``. Adding zero gives the next business instant: ``start`` itself
  during working time, otherwise the start of the next working interval (an SLA clock starts
  when the desk opens). Hence ``business_time_between(start, add_business_time(start, d)) == d``.
- Durations are exact ``timedelta`` values; the ``*_minutes`` functions are float wrappers.
- Holidays close the whole day; a make-up workday (调休, usually a Saturday or Sunday) is worked
  with its own hours, by default the calendar's usual weekday hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[time, time]
DayHours = tuple[Interval, ...]
_UtcInterval = tuple[datetime, datetime]

END_OF_DAY = time(0, 0)
"""As the end of an interval, 00:00 means 24:00 (midnight at the end of the day)."""

SEARCH_HORIZON_DAYS = 3 * 366
"""Adding business time gives up after this many days in a row without working time."""

MINUTE = timedelta(minutes=1)
ALL_WEEK = range(7)
WORKING_WEEK = range(5)
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)
_CACHE_LIMIT = 4096
_FILE_KEYS = frozenset({"year", "region", "source", "notes", "holidays", "makeup_workdays"})


@dataclass(frozen=True)
class HolidaySchedule:
    """One year of a region's public holidays and make-up workdays (date → name)."""

    year: int
    region: str
    holidays: Mapping[date, str]
    makeup_workdays: Mapping[date, str] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        for kind, days in (("holiday", self.holidays), ("make-up workday", self.makeup_workdays)):
            for day in days:
                if day.year != self.year:
                    raise ValueError(f"{kind} {day} is outside the year {self.year}")
        for day in self.makeup_workdays:
            if day in self.holidays:
                raise ValueError(f"{day} is both a holiday and a make-up workday")
            if day.weekday() in WORKING_WEEK:
                raise ValueError(
                    f"make-up workday {day} is a {day:%A}: "
                    "make-up workdays are Saturdays or Sundays"
                )
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))
        object.__setattr__(self, "makeup_workdays", MappingProxyType(dict(self.makeup_workdays)))


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (0 = Monday) in one time zone, with holidays and make-up days.

    Each day may have several intervals, sorted and not overlapping, e.g.
    ``((time(9), time(12)), (time(13), time(21)))``. A date in ``makeup_workdays`` is worked with
    the hours given there, whatever its weekday; a date in ``holidays`` is not worked at all.
    """

    time_zone: str
    weekly_hours: Mapping[int, DayHours]
    holidays: frozenset[date] = frozenset()
    makeup_workdays: Mapping[date, DayHours] = field(default_factory=dict)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _utc_cache: dict[date, tuple[_UtcInterval, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _load_zone(self.time_zone))
        weekly: dict[int, DayHours] = {}
        for weekday, hours in self.weekly_hours.items():
            if weekday not in ALL_WEEK:
                raise ValueError(
                    f"weekly_hours: weekday {weekday!r} is not 0 (Monday) to 6 (Sunday)"
                )
            weekly[weekday] = _checked_hours(hours, f"weekly_hours[{weekday}]")
        holidays = frozenset(self.holidays)
        for day in holidays:
            _check_date(day, "holidays")
        makeup: dict[date, DayHours] = {}
        for day, hours in self.makeup_workdays.items():
            _check_date(day, "makeup_workdays")
            if day in holidays:
                raise ValueError(f"{day} is both a holiday and a make-up workday")
            makeup[day] = _checked_hours(hours, f"makeup_workdays[{day}]")
            if not makeup[day]:
                raise ValueError(f"makeup_workdays[{day}]: a make-up workday needs working hours")
        object.__setattr__(self, "weekly_hours", MappingProxyType(weekly))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "makeup_workdays", MappingProxyType(makeup))

    def hours_on(self, day: date) -> DayHours:
        """The local working intervals of one date (empty on holidays and days off)."""
        if day in self.holidays:
            return ()
        if day in self.makeup_workdays:
            return self.makeup_workdays[day]
        return self.weekly_hours.get(day.weekday(), ())

    @property
    def usual_weekday_hours(self) -> DayHours:
        """The hours of the first of Monday to Friday that is worked (used on make-up days)."""
        for weekday in WORKING_WEEK:
            hours = self.weekly_hours.get(weekday, ())
            if hours:
                return hours
        return ()

    def with_schedule(
        self, schedule: HolidaySchedule, *, makeup_hours: DayHours | None = None
    ) -> BusinessCalendar:
        """This calendar plus a year's holidays and make-up workdays.

        Make-up workdays are worked with ``makeup_hours``, by default the usual weekday hours.
        """
        hours = self.usual_weekday_hours if makeup_hours is None else makeup_hours
        if schedule.makeup_workdays and not hours:
            raise ValueError(
                "the calendar has no weekday hours to use on make-up workdays: pass makeup_hours"
            )
        return replace(
            self,
            holidays=self.holidays | frozenset(schedule.holidays),
            makeup_workdays={
                **self.makeup_workdays,
                **dict.fromkeys(schedule.makeup_workdays, hours),
            },
        )


def twenty_four_seven(time_zone: str) -> BusinessCalendar:
    """Every instant is business time."""
    return BusinessCalendar(time_zone, dict.fromkeys(ALL_WEEK, ((time(0), END_OF_DAY),)))


def seven_by_twelve(time_zone: str) -> BusinessCalendar:
    """Staffed seven days a week, twelve hours a day: every day 09:00-21:00."""
    return BusinessCalendar(time_zone, dict.fromkeys(ALL_WEEK, ((time(9), time(21)),)))


def weekdays(time_zone: str, start: time = time(9), end: time = time(18)) -> BusinessCalendar:
    """Monday to Friday, ``start`` to ``end``."""
    return BusinessCalendar(time_zone, dict.fromkeys(WORKING_WEEK, ((start, end),)))


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant by which ``duration`` of business time has passed since ``start``.

    A zero duration gives the next business instant. Raises ``ValueError`` for a negative
    duration and when the calendar has no working time for ``SEARCH_HORIZON_DAYS`` days in a row.
    """
    if duration < _ZERO:
        raise ValueError(f"cannot add a negative business time ({duration})")
    instant = _utc(start, "start")
    remaining = duration
    day = _local_date(calendar, instant)  # earlier days end before ``instant``
    idle_days = 0
    while idle_days <= SEARCH_HORIZON_DAYS:
        idle_days += 1
        for low, high in _working_intervals(calendar, day):
            if high <= instant:
                continue
            begin = max(low, instant)
            if remaining <= high - begin:
                return begin + remaining
            remaining -= high - begin
            idle_days = 0
        day += _DAY
    raise ValueError(
        f"no working time in {SEARCH_HORIZON_DAYS} days in a row after {instant.isoformat()}: "
        "does the calendar have any working hours?"
    )


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time in ``[start, end)``; zero when ``end`` is not after ``start``."""
    begin = _utc(start, "start")
    finish = _utc(end, "end")
    total = _ZERO
    day = _local_date(calendar, begin)
    # One day more: a clock set back across midnight shows a date again after the next began.
    last = _local_date(calendar, finish) + _DAY
    while day <= last:
        for low, high in _working_intervals(calendar, day):
            overlap = min(high, finish) - max(low, begin)
            if overlap > _ZERO:
                total += overlap
        day += _DAY
    return total


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: float) -> datetime:
    """``add_business_time`` with the duration in minutes (rounded to the microsecond)."""
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def business_minutes_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """``business_time_between`` in minutes."""
    return business_time_between(calendar, start, end) / MINUTE


def next_business_instant(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself during working time, otherwise the start of the next working interval."""
    return add_business_time(calendar, at, _ZERO)


def is_business_time(calendar: BusinessCalendar, at: datetime) -> bool:
    instant = _utc(at, "at")
    day = _local_date(calendar, instant)
    return any(
        low <= instant < high
        for near in (day, day + _DAY)  # the next day too, as in business_time_between
        for low, high in _working_intervals(calendar, near)
    )


def parse_holiday_file(text: str) -> HolidaySchedule:
    """Read one year of holidays from JSON.

    ``{"year": 2026, "region": "CN", "source": "<url>", "notes": "...",
    "holidays": [{"date": "2026-01-01", "name": "元旦"}, ...],
    "makeup_workdays": [{"date": "2026-01-04", "name": "元旦调休"}, ...]}``

    Dates must lie inside the year, no date may be both, make-up workdays must be Saturdays or
    Sundays; anything else raises ``ValueError`` saying where.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"holiday file is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError("holiday file: expected a JSON object at the top level")
    unknown = sorted(set(document) - _FILE_KEYS)
    if unknown:
        raise ValueError(f"holiday file: unknown keys {unknown}, expected {sorted(_FILE_KEYS)}")
    year = document.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ValueError("holiday file: 'year' must be an integer")
    region = document.get("region")
    if not isinstance(region, str) or not region.strip():
        raise ValueError("holiday file: 'region' must be a non-empty string")
    for key in ("source", "notes"):
        if not isinstance(document.get(key, ""), str):
            raise ValueError(f"holiday file: {key!r} must be a string")
    return HolidaySchedule(
        year=year,
        region=region,
        holidays=_parse_days(document.get("holidays"), "holidays"),
        makeup_workdays=_parse_days(document.get("makeup_workdays", []), "makeup_workdays"),
        source=document.get("source"),
    )


def _parse_days(entries: Any, key: str) -> dict[date, str]:
    if not isinstance(entries, list):
        raise ValueError(f"holiday file: {key!r} must be a list of {{'date', 'name'}} objects")
    days: dict[date, str] = {}
    for index, entry in enumerate(entries):
        where = f"holiday file: {key}[{index}]"
        if not isinstance(entry, dict) or "date" not in entry or set(entry) - {"date", "name"}:
            raise ValueError(f"{where}: expected an object with 'date' and an optional 'name'")
        raw, name = entry["date"], entry.get("name", "")
        if not isinstance(raw, str) or not isinstance(name, str):
            raise ValueError(f"{where}: 'date' and 'name' must be strings")
        try:
            day = date.fromisoformat(raw)
        except ValueError as error:
            raise ValueError(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from error
        if day in days:
            raise ValueError(f"{where}: {day} is listed twice")
        days[day] = name
    return days


def _load_zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {key!r}: use an IANA name such as 'Asia/Shanghai'"
        ) from error


def _check_date(day: object, where: str) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"{where}: {day!r} is not a date")


def _checked_hours(hours: Iterable[Interval], where: str) -> DayHours:
    checked = tuple((start, end) for start, end in hours)
    previous: tuple[timedelta, timedelta] | None = None
    for start, end in checked:
        for value in (start, end):
            if value.tzinfo is not None:
                raise ValueError(f"{where}: {value} carries a time zone; hours are local times")
        low, high = _since_midnight(start), _since_midnight(end) or _DAY
        if low >= high:
            raise ValueError(
                f"{where}: interval {start:%H:%M}-{end:%H:%M} does not end after it starts"
            )
        if previous is not None:
            if low < previous[0]:
                raise ValueError(f"{where}: intervals are not in order; sort them by start time")
            if low < previous[1]:
                raise ValueError(
                    f"{where}: interval {start:%H:%M}-{end:%H:%M} overlaps the one before"
                )
        previous = (low, high)
    return checked


def _since_midnight(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _utc(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _local_date(calendar: BusinessCalendar, instant: datetime) -> date:
    return instant.astimezone(calendar._zone).date()


def _working_intervals(calendar: BusinessCalendar, day: date) -> tuple[_UtcInterval, ...]:
    """The UTC working intervals of one local date, in order, empty ones dropped (memoised)."""
    cached = calendar._utc_cache.get(day)
    if cached is None:
        intervals: list[_UtcInterval] = []
        for start, end in calendar.hours_on(day):
            low = _first_instant_showing(calendar._zone, day, start)
            if end == END_OF_DAY:
                high = _first_instant_showing(calendar._zone, day + _DAY, END_OF_DAY)
            else:
                high = _first_instant_showing(calendar._zone, day, end)
            if low < high:
                intervals.append((low, high))
        cached = tuple(intervals)
        if len(calendar._utc_cache) >= _CACHE_LIMIT:
            calendar._utc_cache.clear()
        calendar._utc_cache[day] = cached
    return cached


def _first_instant_showing(zone: ZoneInfo, day: date, clock: time) -> datetime:
    """The first instant (UTC) at which the local clock in ``zone`` shows ``day clock`` or later."""
    local = datetime.combine(day, clock, tzinfo=zone)
    instant = local.astimezone(UTC)
    shown = instant.astimezone(zone)
    if shown.date() == day and shown.time() == clock:
        return instant  # the time exists; fold=0 is its first occurrence
    # Skipped when the clocks went forward: find the jump between the two readings of ``local``.
    before = local.replace(fold=1).astimezone(UTC)  # offset after the jump: an earlier instant
    after = instant  # offset before the jump: a later instant
    offset_before = before.astimezone(zone).utcoffset()
    while after - before > _MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return after
