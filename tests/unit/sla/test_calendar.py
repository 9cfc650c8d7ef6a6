from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.sla.calendar import (
    END_OF_DAY,
    SEARCH_HORIZON_DAYS,
    BusinessCalendar,
    DayHours,
    HolidaySchedule,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    is_business_time,
    next_business_instant,
    parse_holiday_file,
    seven_by_twelve,
    twenty_four_seven,
    weekdays,
)
from closeloop.sla.holidays import load_bundled_schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
ZERO = timedelta(0)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SPLIT_DAY: DayHours = ((time(9), time(12)), (time(13), time(21)))

# The zones the properties run in: no DST, half-hour offset, DST at 02:00 (New York), at
# 02:00/03:00 (Berlin), a half-hour DST shift (Lord Howe) and DST changes at midnight (Santiago).
ZONES = [
    "Asia/Shanghai",
    "UTC",
    "Asia/Kolkata",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
]
FIXED_OFFSET_ZONES = ["Asia/Shanghai", "UTC", "Asia/Kolkata"]
# 2026 transitions: New York 03-08 and 11-01, Berlin 03-29 and 10-25, Lord Howe 04-05 and 10-04,
# Santiago 04-05 and 09-06.
TRANSITION_DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 9, 6, tzinfo=UTC),
]


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def mark_to_time(mark: int) -> time:
    """Quarter hours since midnight; 96 is the end of the day."""
    return END_OF_DAY if mark == 96 else time(mark // 4, mark % 4 * 15)


@st.composite
def day_hours(draw: st.DrawFn) -> DayHours:
    marks = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1] if marks[-1] == 96 else [*marks, 96]
    pairs = zip(marks[::2], marks[1::2], strict=True)
    return tuple((mark_to_time(low), mark_to_time(high)) for low, high in pairs)


dates_2026 = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31))


@st.composite
def calendars(draw: st.DrawFn, zones: list[str] = ZONES) -> BusinessCalendar:
    worked_days = draw(st.sets(st.integers(0, 6), min_size=1))
    holidays = draw(st.frozensets(dates_2026, max_size=12))
    makeup = draw(st.dictionaries(dates_2026, day_hours(), max_size=4))
    return BusinessCalendar(
        draw(st.sampled_from(zones)),
        {weekday: draw(day_hours()) for weekday in worked_days},
        holidays=holidays,
        makeup_workdays={day: hours for day, hours in makeup.items() if day not in holidays},
    )


YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
anywhere_in_2026 = st.timedeltas(min_value=ZERO, max_value=timedelta(days=364)).map(
    lambda offset: YEAR_START + offset
)
near_a_transition = st.builds(
    lambda day, offset: day + offset,
    st.sampled_from(TRANSITION_DAYS),
    st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
)
instants = st.one_of(anywhere_in_2026, near_a_transition)
durations = st.timedeltas(min_value=ZERO, max_value=timedelta(days=2))


# --- properties


@given(calendars(), instants, durations)
def test_measuring_an_addition_gives_back_the_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = add_business_time(calendar, start, duration)
    assert end >= start
    assert end.tzinfo is UTC
    assert business_time_between(calendar, start, end) == duration


@given(calendars(), instants, st.integers(0, 3000))
def test_measuring_an_addition_of_whole_minutes_gives_back_the_minutes(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = add_business_minutes(calendar, start, minutes)
    assert business_minutes_between(calendar, start, end) == minutes


@given(calendars(), instants, durations, durations)
def test_later_durations_give_later_instants(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    assert add_business_time(calendar, start, shorter) <= add_business_time(calendar, start, longer)


@given(calendars(), instants, instants, durations)
def test_later_starts_give_later_instants(
    calendar: BusinessCalendar, first: datetime, second: datetime, duration: timedelta
) -> None:
    earlier, later = sorted((first, second))
    assert add_business_time(calendar, earlier, duration) <= add_business_time(
        calendar, later, duration
    )


@given(calendars(), instants, instants, instants)
def test_business_time_adds_up_over_consecutive_spans(
    calendar: BusinessCalendar, first: datetime, second: datetime, third: datetime
) -> None:
    low, middle, high = sorted((first, second, third))
    whole = business_time_between(calendar, low, high)
    assert whole == business_time_between(calendar, low, middle) + business_time_between(
        calendar, middle, high
    )
    assert ZERO <= whole <= high - low
    assert business_time_between(calendar, high, low) == ZERO


@given(calendars(), instants)
def test_the_next_business_instant_is_business_time_and_nothing_before_it_is(
    calendar: BusinessCalendar, instant: datetime
) -> None:
    following = next_business_instant(calendar, instant)
    assert following >= instant
    assert is_business_time(calendar, following)
    assert business_time_between(calendar, instant, following) == ZERO
    assert (following == instant) == is_business_time(calendar, instant)


@given(calendars(), instants)
def test_business_time_is_what_a_tiny_step_measures(
    calendar: BusinessCalendar, instant: datetime
) -> None:
    step = timedelta(microseconds=1)
    expected = step if is_business_time(calendar, instant) else ZERO
    assert business_time_between(calendar, instant, instant + step) == expected


def working_minute(calendar: BusinessCalendar, instant: datetime) -> bool:
    """An independent oracle for zones without DST: read the local clock and the raw tables."""
    local = instant.astimezone(ZoneInfo(calendar.time_zone))
    day = local.date()
    if day in calendar.holidays:
        hours: DayHours = ()
    elif day in calendar.makeup_workdays:
        hours = calendar.makeup_workdays[day]
    else:
        hours = calendar.weekly_hours.get(day.weekday(), ())
    clock = local.time()
    return any(low <= clock and (high == END_OF_DAY or clock < high) for low, high in hours)


@settings(max_examples=40)
@given(
    calendars(FIXED_OFFSET_ZONES),
    st.integers(0, 360 * 24 * 60).map(lambda minutes: YEAR_START + minutes * MINUTE),
    st.integers(0, 3 * 24 * 60),
)
def test_non_working_time_never_counts(
    calendar: BusinessCalendar, start: datetime, span_minutes: int
) -> None:
    counted = sum(
        working_minute(calendar, start + offset * MINUTE) for offset in range(span_minutes)
    )
    assert business_time_between(calendar, start, start + span_minutes * MINUTE) == counted * MINUTE


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_a_make_up_workday_counts_with_the_usual_weekday_hours(day: date) -> None:
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    calendar = weekdays("Asia/Shanghai")
    schedule = HolidaySchedule(saturday.year, "XX", holidays={}, makeup_workdays={saturday: "x"})
    start = datetime.combine(saturday, time(0), tzinfo=SHANGHAI)
    end = start + 23 * HOUR
    assert business_time_between(calendar, start, end) == ZERO
    assert business_time_between(calendar.with_schedule(schedule), start, end) == 9 * HOUR


@given(st.dates(min_value=date(2026, 1, 5), max_value=date(2026, 12, 25)))
def test_a_holiday_removes_exactly_its_own_hours(day: date) -> None:
    monday = day - timedelta(days=day.weekday())
    weekday = monday + timedelta(days=day.weekday() % 5)
    calendar = weekdays("Europe/Berlin")
    start = datetime.combine(monday, time(0), tzinfo=BERLIN)
    week = start, start + 7 * 24 * HOUR
    schedule = HolidaySchedule(weekday.year, "XX", holidays={weekday: "x"})
    assert business_time_between(calendar, *week) == 45 * HOUR
    assert business_time_between(calendar.with_schedule(schedule), *week) == 36 * HOUR


@settings(max_examples=30)
@given(st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]), dates_2026)
def test_a_round_the_clock_day_lasts_its_real_length_across_dst(zone_name: str, day: date) -> None:
    zone = ZoneInfo(zone_name)
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    real_length = next_midnight.astimezone(UTC) - midnight.astimezone(UTC)
    assert (
        business_time_between(twenty_four_seven(zone_name), midnight, next_midnight) == real_length
    )


# --- the seed case and explicit examples


def test_seven_by_twelve_p1_first_response_created_at_20_50_is_due_at_09_05() -> None:
    calendar = seven_by_twelve("Asia/Shanghai")
    created = at(SHANGHAI, 2026, 5, 11, 20, 50)
    assert add_business_minutes(calendar, created, 15) == at(SHANGHAI, 2026, 5, 12, 9, 5)
    assert add_business_minutes(calendar, created, 120) == at(SHANGHAI, 2026, 5, 12, 10, 50)


def test_24_business_hours_on_seven_by_twelve_are_two_working_days() -> None:
    calendar = seven_by_twelve("Asia/Shanghai")
    created = at(SHANGHAI, 2026, 5, 11, 10)
    assert add_business_minutes(calendar, created, 24 * 60) == at(SHANGHAI, 2026, 5, 13, 10)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        pytest.param((11, 50), 20, (13, 10), id="over_the_lunch_break_case"),
        pytest.param((20, 0), 60, (21, 0), id="ends_exactly_at_closing_case"),
        pytest.param((8, 0), 30, (9, 30), id="before_opening_case"),
        pytest.param((12, 30), 0, (13, 0), id="zero_during_the_break_case"),
        pytest.param((10, 0), 0, (10, 0), id="zero_during_working_time_case"),
        pytest.param((21, 0), 0, (9, 0), id="zero_at_closing_time_case"),
        pytest.param((21, 0), 1, (9, 1), id="one_minute_after_closing_case"),
    ],
)
def test_several_intervals_a_day(
    start: tuple[int, int], minutes: int, expected: tuple[int, int]
) -> None:
    calendar = BusinessCalendar("Asia/Shanghai", dict.fromkeys(range(7), SPLIT_DAY))
    result = add_business_minutes(calendar, at(SHANGHAI, 2026, 5, 11, *start), minutes)
    day = 12 if expected < start else 11
    assert result == at(SHANGHAI, 2026, 5, day, *expected)


def test_adding_zero_is_the_next_business_instant() -> None:
    calendar = weekdays("Asia/Shanghai")
    saturday_noon = at(SHANGHAI, 2026, 5, 16, 12)
    assert add_business_minutes(calendar, saturday_noon, 0) == at(SHANGHAI, 2026, 5, 18, 9)
    assert next_business_instant(calendar, saturday_noon) == at(SHANGHAI, 2026, 5, 18, 9)
    assert not is_business_time(calendar, saturday_noon)
    assert is_business_time(calendar, at(SHANGHAI, 2026, 5, 18, 9))
    assert not is_business_time(calendar, at(SHANGHAI, 2026, 5, 18, 18))


def test_nights_and_weekends_do_not_count() -> None:
    calendar = weekdays("Asia/Shanghai")
    friday_evening, monday_morning = at(SHANGHAI, 2026, 5, 15, 17), at(SHANGHAI, 2026, 5, 18, 10)
    assert business_time_between(calendar, friday_evening, monday_morning) == 2 * HOUR
    assert business_minutes_between(calendar, friday_evening, monday_morning) == 120.0
    night = at(SHANGHAI, 2026, 5, 12, 18), at(SHANGHAI, 2026, 5, 13, 9)
    assert business_time_between(calendar, *night) == ZERO
    assert business_time_between(calendar, monday_morning, friday_evening) == ZERO


def test_fractional_minutes_are_kept_to_the_microsecond() -> None:
    calendar = twenty_four_seven("UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert add_business_minutes(calendar, start, 1.5) == start + timedelta(seconds=90)
    assert business_minutes_between(calendar, start, start + timedelta(seconds=90)) == 1.5


def test_the_chinese_2026_schedule_closes_the_spring_festival_and_opens_its_make_up_days() -> None:
    schedule = load_bundled_schedule("CN", 2026)
    assert schedule is not None
    calendar = weekdays("Asia/Shanghai").with_schedule(schedule)
    friday = at(SHANGHAI, 2026, 2, 13, 17)
    # Saturday 14 February is worked; the festival runs from the 15th to Monday the 23rd.
    assert add_business_minutes(calendar, friday, 120) == at(SHANGHAI, 2026, 2, 14, 10)
    saturday_evening = at(SHANGHAI, 2026, 2, 14, 18)
    assert add_business_minutes(calendar, saturday_evening, 60) == at(SHANGHAI, 2026, 2, 24, 10)
    assert calendar.hours_on(date(2026, 2, 14)) == ((time(9), time(18)),)
    assert calendar.hours_on(date(2026, 2, 16)) == ()


def test_make_up_days_may_have_their_own_hours() -> None:
    schedule = HolidaySchedule(2026, "XX", holidays={}, makeup_workdays={date(2026, 5, 9): "x"})
    short = ((time(10), time(12)),)
    calendar = weekdays("Asia/Shanghai").with_schedule(schedule, makeup_hours=short)
    assert calendar.hours_on(date(2026, 5, 9)) == short


# --- DST


def test_new_york_day_lengths_in_2026() -> None:
    calendar = twenty_four_seven("America/New_York")
    spring = at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)
    autumn = at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)
    assert business_time_between(calendar, *spring) == 23 * HOUR
    assert business_time_between(calendar, *autumn) == 25 * HOUR


def test_new_york_weekdays_across_the_spring_change() -> None:
    calendar = weekdays("America/New_York", time(9), time(17))
    friday = at(NEW_YORK, 2026, 3, 6, 16)  # 21:00 UTC (EST)
    due = add_business_minutes(calendar, friday, 120)
    assert due == at(NEW_YORK, 2026, 3, 9, 10)  # 14:00 UTC (EDT)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours", "real_length", "opens_at_utc"),
    [
        # 01:00 EST to 04:00 EDT: the clock skips 02:00-03:00.
        pytest.param(date(2026, 3, 8), (time(1), time(4)), 2 * HOUR, (6, 0), id="spans_gap_case"),
        # 02:30 does not exist: the desk opens when the clock jumps to 03:00 EDT.
        pytest.param(
            date(2026, 3, 8), (time(2, 30), time(5)), 2 * HOUR, (7, 0), id="opens_in_gap_case"
        ),
        # 01:00 (first, EDT) to 03:00 EST: the hour 01:00-02:00 happens twice.
        pytest.param(date(2026, 11, 1), (time(1), time(3)), 3 * HOUR, (5, 0), id="overlap_case"),
        # A repeated time is its first occurrence.
        pytest.param(
            date(2026, 11, 1),
            (time(1, 30), time(1, 45)),
            15 * MINUTE,
            (5, 30),
            id="inside_overlap_case",
        ),
    ],
)
def test_new_york_intervals_on_change_days(
    day: date, hours: tuple[time, time], real_length: timedelta, opens_at_utc: tuple[int, int]
) -> None:
    calendar = BusinessCalendar("America/New_York", {6: (hours,)})
    midnight = datetime.combine(day, time(0), tzinfo=NEW_YORK)
    assert business_time_between(calendar, midnight, midnight + 24 * HOUR) == real_length
    opening = next_business_instant(calendar, midnight)
    assert opening == datetime.combine(day, time(*opens_at_utc), tzinfo=UTC)


def test_an_interval_inside_the_new_york_gap_has_no_working_time() -> None:
    calendar = BusinessCalendar(
        "America/New_York", {6: ((time(2), time(2, 30)),), 0: ((time(9), time(10)),)}
    )
    sunday = at(NEW_YORK, 2026, 3, 8)
    assert business_time_between(calendar, sunday, sunday + 24 * HOUR) == ZERO
    assert next_business_instant(calendar, sunday) == at(NEW_YORK, 2026, 3, 9, 9)


def test_only_the_first_occurrence_of_a_repeated_hour_is_worked() -> None:
    calendar = BusinessCalendar("America/New_York", {6: ((time(1, 30), time(1, 45)),)})
    first = datetime(2026, 11, 1, 1, 35, tzinfo=NEW_YORK)
    second = datetime(2026, 11, 1, 1, 35, fold=1, tzinfo=NEW_YORK)
    assert is_business_time(calendar, first)
    assert not is_business_time(calendar, second)


def test_berlin_change_days_in_2026() -> None:
    calendar = twenty_four_seven("Europe/Berlin")
    assert business_time_between(calendar, at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == (
        23 * HOUR
    )
    assert business_time_between(calendar, at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)) == (
        25 * HOUR
    )
    desk = seven_by_twelve("Europe/Berlin")
    due = add_business_minutes(desk, at(BERLIN, 2026, 10, 24, 20), 120)
    assert due == at(BERLIN, 2026, 10, 25, 10)
    assert due - at(BERLIN, 2026, 10, 24, 20).astimezone(UTC) == 15 * HOUR


# --- guards


def test_a_calendar_without_working_time_raises_instead_of_looping() -> None:
    calendar = BusinessCalendar("UTC", {})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match=f"no working time in {SEARCH_HORIZON_DAYS} days"):
        add_business_minutes(calendar, start, 1)
    with pytest.raises(ValueError, match="no working time"):
        next_business_instant(calendar, start)
    assert business_time_between(calendar, start, start + 400 * 24 * HOUR) == ZERO


def test_a_long_holiday_does_not_trip_the_horizon() -> None:
    long_break = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(400))
    calendar = BusinessCalendar("UTC", {0: ((time(9), time(10)),)}, holidays=long_break)
    result = add_business_minutes(calendar, datetime(2026, 1, 1, tzinfo=UTC), 30)
    assert result == datetime(2027, 2, 8, 9, 30, tzinfo=UTC)


def test_many_years_of_days_stay_correct_past_the_memo_size() -> None:
    calendar = twenty_four_seven("UTC")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = datetime(2034, 1, 1, tzinfo=UTC)
    assert business_time_between(calendar, start, end) == end - start
    assert business_time_between(calendar, start, start + HOUR) == HOUR


def test_negative_durations_and_naive_instants_are_refused() -> None:
    calendar = twenty_four_seven("UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(calendar, start, -1)
    with pytest.raises(ValueError, match="start must be an aware datetime"):
        add_business_minutes(calendar, start.replace(tzinfo=None), 1)
    with pytest.raises(ValueError, match="end must be an aware datetime"):
        business_time_between(calendar, start, start.replace(tzinfo=None))
    with pytest.raises(ValueError, match="at must be an aware datetime"):
        is_business_time(calendar, start.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'", id="zone"),
        pytest.param({"time_zone": "../etc/passwd"}, "unknown time zone", id="zone_path"),
        pytest.param(
            {"weekly_hours": {7: ((time(9), time(18)),)}}, "weekday 7 is not 0", id="weekday"
        ),
        pytest.param(
            {"weekly_hours": {0: ((time(18), time(9)),)}},
            r"weekly_hours\[0\]: interval 18:00-09:00 does not end after it starts",
            id="reversed",
        ),
        pytest.param(
            {"weekly_hours": {0: ((time(9), time(9)),)}}, "does not end after", id="empty"
        ),
        pytest.param(
            {"weekly_hours": {0: ((time(9), END_OF_DAY), (time(13), time(14)))}},
            "interval 13:00-14:00 overlaps the one before",
            id="overlap_after_end_of_day",
        ),
        pytest.param(
            {"weekly_hours": {1: ((time(9), time(12)), (time(11), time(14)))}},
            r"weekly_hours\[1\]: interval 11:00-14:00 overlaps",
            id="overlap",
        ),
        pytest.param(
            {"weekly_hours": {2: ((time(13), time(14)), (time(9), time(12)))}},
            "not in order",
            id="unsorted",
        ),
        pytest.param(
            {"weekly_hours": {0: ((time(9, tzinfo=UTC), time(12)),)}},
            "carries a time zone",
            id="aware_time",
        ),
        pytest.param(
            {
                "holidays": frozenset({date(2026, 1, 4)}),
                "makeup_workdays": {date(2026, 1, 4): ((time(9), time(18)),)},
            },
            "2026-01-04 is both a holiday and a make-up workday",
            id="both",
        ),
        pytest.param(
            {"makeup_workdays": {date(2026, 1, 4): ()}}, "needs working hours", id="no_hours"
        ),
        pytest.param(
            {"holidays": frozenset({datetime(2026, 1, 1, tzinfo=UTC)})},
            "is not a date",
            id="datetime_holiday",
        ),
        pytest.param(
            {"makeup_workdays": {"2026-01-04": ((time(9), time(18)),)}},
            "is not a date",
            id="string_make_up_day",
        ),
    ],
)
def test_invalid_calendars_are_refused_with_a_clear_message(
    kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"time_zone": "UTC", "weekly_hours": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**arguments)  # type: ignore[arg-type]


def test_adjacent_intervals_and_a_whole_day_are_valid() -> None:
    calendar = BusinessCalendar(
        "UTC",
        {0: ((time(0), time(12)), (time(12), END_OF_DAY))},
        holidays=frozenset({date(2026, 1, 6)}),
    )
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert business_time_between(calendar, monday, monday + 24 * HOUR) == 24 * HOUR
    assert calendar.holidays == frozenset({date(2026, 1, 6)})


def test_the_calendar_keeps_its_own_copy_of_the_hours() -> None:
    hours = {0: ((time(9), time(18)),)}
    calendar = BusinessCalendar("UTC", hours)
    hours[1] = ((time(9), time(18)),)
    assert 1 not in calendar.weekly_hours
    assert calendar == BusinessCalendar("UTC", {0: ((time(9), time(18)),)})


def test_make_up_days_need_weekday_hours_to_borrow() -> None:
    weekend_only = BusinessCalendar("UTC", {5: ((time(9), time(18)),)})
    schedule = HolidaySchedule(2026, "XX", holidays={}, makeup_workdays={date(2026, 1, 4): "x"})
    assert weekend_only.usual_weekday_hours == ()
    with pytest.raises(ValueError, match="pass makeup_hours"):
        weekend_only.with_schedule(schedule)
    assert weekend_only.with_schedule(HolidaySchedule(2026, "XX", holidays={})) == weekend_only


def test_the_usual_weekday_hours_are_the_first_worked_weekday() -> None:
    calendar = BusinessCalendar("UTC", {1: SPLIT_DAY, 2: ((time(8), time(9)),)})
    assert calendar.usual_weekday_hours == SPLIT_DAY


# --- holiday files

VALID_FILE = """{
  "year": 2026, "region": "CN", "source": "https://example.org/notice", "notes": "n",
  "holidays": [{"date": "2026-01-01", "name": "元旦"}, {"date": "2026-01-02"}],
  "makeup_workdays": [{"date": "2026-01-04", "name": "元旦调休"}]
}"""


def test_a_holiday_file_is_parsed() -> None:
    schedule = parse_holiday_file(VALID_FILE)
    assert schedule == HolidaySchedule(
        year=2026,
        region="CN",
        holidays={date(2026, 1, 1): "元旦", date(2026, 1, 2): ""},
        makeup_workdays={date(2026, 1, 4): "元旦调休"},
        source="https://example.org/notice",
    )


def test_make_up_workdays_are_optional_in_a_holiday_file() -> None:
    schedule = parse_holiday_file('{"year": 2030, "region": "SG", "holidays": []}')
    assert (schedule.holidays, schedule.makeup_workdays, schedule.source) == ({}, {}, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "not valid JSON", id="json"),
        pytest.param("[]", "expected a JSON object", id="not_object"),
        pytest.param('{"year": 2026, "region": "CN", "holidays": [], "extra": 1}', "unknown keys"),
        pytest.param('{"year": "2026", "region": "CN", "holidays": []}', "'year' must be an int"),
        pytest.param('{"year": true, "region": "CN", "holidays": []}', "'year' must be an int"),
        pytest.param('{"year": 2026, "region": " ", "holidays": []}', "'region' must be"),
        pytest.param('{"year": 2026, "region": 1, "holidays": []}', "'region' must be"),
        pytest.param('{"year": 2026, "region": "CN", "holidays": [], "source": 1}', "'source'"),
        pytest.param('{"year": 2026, "region": "CN"}', "'holidays' must be a list"),
        pytest.param('{"year": 2026, "region": "CN", "holidays": ["2026-01-01"]}', "an object"),
        pytest.param('{"year": 2026, "region": "CN", "holidays": [{"name": "x"}]}', "an object"),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2026-01-01", "day": 1}]}',
            r"holidays\[0\]: expected an object",
            id="extra_entry_key",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": 20260101}]}', "must be strings"
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2026-01-01", "name": 1}]}',
            "must be strings",
            id="name_not_string",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2026-02-30"}]}',
            r"holidays\[0\]: '2026-02-30' is not a date",
            id="bad_date",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2026-01-01"}, '
            '{"date": "2026-01-01"}]}',
            r"holidays\[1\]: 2026-01-01 is listed twice",
            id="twice",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2025-12-31"}]}',
            "holiday 2025-12-31 is outside the year 2026",
            id="outside",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [], '
            '"makeup_workdays": [{"date": "2027-01-02"}]}',
            "make-up workday 2027-01-02 is outside the year 2026",
            id="make_up_outside",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [{"date": "2026-01-04"}], '
            '"makeup_workdays": [{"date": "2026-01-04"}]}',
            "both a holiday and a make-up workday",
            id="both",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [], '
            '"makeup_workdays": [{"date": "2026-01-05"}]}',
            "make-up workday 2026-01-05 is a Monday",
            id="make_up_on_a_weekday",
        ),
        pytest.param(
            '{"year": 2026, "region": "CN", "holidays": [], "makeup_workdays": {}}',
            "'makeup_workdays' must be a list",
            id="make_up_not_a_list",
        ),
    ],
)
def test_invalid_holiday_files_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_holiday_file(text)


def test_the_bundled_2026_chinese_schedule_matches_the_state_council_notice() -> None:
    schedule = load_bundled_schedule("cn", 2026)
    assert schedule is not None
    assert schedule.source is not None
    assert schedule.source.startswith("https://www.gov.cn/")
    assert len(schedule.holidays) == 33
    assert sorted(schedule.makeup_workdays) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    spring_festival = [day for day, name in schedule.holidays.items() if name == "春节"]
    assert (min(spring_festival), max(spring_festival)) == (date(2026, 2, 15), date(2026, 2, 23))


def test_an_unshipped_year_is_none_rather_than_an_empty_schedule() -> None:
    assert load_bundled_schedule("CN", 1999) is None


def test_a_region_must_be_letters() -> None:
    with pytest.raises(ValueError, match="2 to 8 letters"):
        load_bundled_schedule("../cn", 2026)


def test_every_bundled_file_is_named_after_its_region_and_year() -> None:
    data = files("closeloop.sla").joinpath("data")
    names = sorted(entry.name for entry in data.iterdir() if entry.name.endswith(".json"))
    assert names
    for name in names:
        region, year = name.removesuffix(".json").split("-")
        schedule = parse_holiday_file(data.joinpath(name).read_text(encoding="utf-8"))
        assert (schedule.region, schedule.year) == (region.upper(), int(year))
        assert schedule.source is not None
