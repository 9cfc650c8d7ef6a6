from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.sla.calendar import (
    BusinessCalendar,
    business_time_between,
    seven_by_twelve,
    twenty_four_seven,
    weekdays,
)
from closeloop.sla.clock import (
    PENDING_ON_CUSTOMER,
    ClockState,
    StatusChange,
    Target,
    TargetKind,
    TargetState,
    compute_clock,
    default_paused_statuses,
    status_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZERO = timedelta(0)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DESK = seven_by_twelve("Asia/Shanghai")  # the seed case: 7 days a week, 09:00-21:00
ROUND_THE_CLOCK = twenty_four_seven("Asia/Shanghai")

# The seed policy: "P1: respond within 15 minutes, resolve within 2 hours; everything else
# resolved within 24 hours". All in business time on the 7x12 calendar, so "24 hours" is two
# working days of twelve hours (a ticket opened Monday 10:00 is due Wednesday 10:00).
P1_FIRST_RESPONSE = Target(TargetKind.first_response, minutes=15, business_time=True)
P1_RESOLUTION = Target(TargetKind.resolution, minutes=2 * 60, business_time=True)
OTHER_RESOLUTION = Target(TargetKind.resolution, minutes=24 * 60, business_time=True)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in May 2026, Shanghai time (11 May 2026 is a Monday)."""
    return datetime(2026, 5, day, hour, minute, tzinfo=SHANGHAI)


def clock(
    target: Target,
    *,
    started_at: datetime,
    now: datetime,
    calendar: BusinessCalendar = DESK,
    history: tuple[StatusChange, ...] = (),
    met_at: datetime | None = None,
) -> ClockState:
    return compute_clock(
        target,
        calendar=calendar,
        started_at=started_at,
        now=now,
        history=history,
        met_at=met_at,
    )


# --- the seed case


def test_p1_first_response_created_at_20_50_is_due_at_09_05_next_day() -> None:
    state = clock(P1_FIRST_RESPONSE, started_at=local(11, 20, 50), now=local(11, 23))
    assert state.due_at == local(12, 9, 5)
    assert state.state is TargetState.running
    assert state.elapsed == 10 * MINUTE
    assert state.remaining == 5 * MINUTE
    assert state.due_at.tzinfo is UTC


def test_p1_resolution_created_at_20_50_is_due_at_10_50_next_day() -> None:
    state = clock(P1_RESOLUTION, started_at=local(11, 20, 50), now=local(11, 20, 50))
    assert state.due_at == local(12, 10, 50)
    assert state.elapsed == ZERO


def test_everything_else_is_resolved_within_two_working_days() -> None:
    state = clock(OTHER_RESOLUTION, started_at=local(11, 10), now=local(11, 10))
    assert state.due_at == local(13, 10)
    calendar_day = Target(TargetKind.resolution, minutes=24 * 60, business_time=False)
    assert clock(calendar_day, started_at=local(11, 10), now=local(11, 10)).due_at == local(12, 10)


def test_a_reply_before_the_due_instant_meets_the_target() -> None:
    state = clock(
        P1_FIRST_RESPONSE, started_at=local(11, 20, 50), now=local(12, 12), met_at=local(12, 9, 3)
    )
    assert state.state is TargetState.met
    assert state.met_at == local(12, 9, 3)
    assert state.breached_at is None
    assert state.elapsed == 13 * MINUTE
    assert state.due_at == local(12, 9, 5)


def test_a_reply_exactly_at_the_due_instant_is_on_time() -> None:
    state = clock(
        P1_FIRST_RESPONSE, started_at=local(11, 20, 50), now=local(12, 12), met_at=local(12, 9, 5)
    )
    assert state.state is TargetState.met


def test_a_reply_after_the_due_instant_is_a_breach_with_met_at() -> None:
    state = clock(
        P1_FIRST_RESPONSE, started_at=local(11, 20, 50), now=local(12, 12), met_at=local(12, 9, 6)
    )
    assert state.state is TargetState.breached
    assert state.met_at == local(12, 9, 6)
    assert state.breached_at == local(12, 9, 5)
    assert state.remaining == -MINUTE


def test_a_reply_after_closing_time_is_late_though_no_business_time_passed() -> None:
    started = local(11, 20, 45)  # due at 21:00, closing time
    state = clock(P1_FIRST_RESPONSE, started_at=started, now=local(11, 23), met_at=local(11, 22))
    assert state.state is TargetState.breached
    assert state.breached_at == local(11, 21)
    assert state.remaining == ZERO


def test_warning_at_75_percent() -> None:
    started = local(11, 20, 50)
    before = clock(P1_FIRST_RESPONSE, started_at=started, now=local(12, 9, 1))
    assert before.state is TargetState.running
    assert before.warning_at == (local(12, 9, 1) + 15 * timedelta(seconds=1),)  # 11.25 minutes
    at_75 = clock(P1_FIRST_RESPONSE, started_at=started, now=local(12, 9, 2))
    assert at_75.state is TargetState.warning
    assert at_75.elapsed == 12 * MINUTE


def test_an_unanswered_ticket_is_breached_at_the_due_instant() -> None:
    started = local(11, 20, 50)
    state = clock(P1_FIRST_RESPONSE, started_at=started, now=local(12, 9, 5))
    assert state.state is TargetState.breached
    assert state.breached_at == local(12, 9, 5)
    later = clock(P1_FIRST_RESPONSE, started_at=started, now=local(12, 9, 35))
    assert later.breached_at == local(12, 9, 5)
    assert later.remaining == -30 * MINUTE


def test_a_priority_raise_shortens_the_due_instant_and_keeps_the_history() -> None:
    history = (StatusChange(local(11, 10), "open"),)
    p3 = clock(OTHER_RESOLUTION, started_at=local(11, 10), now=local(11, 11), history=history)
    p1 = clock(P1_RESOLUTION, started_at=local(11, 10), now=local(11, 11), history=history)
    assert p1.due_at == local(11, 12) < p3.due_at
    assert p1.elapsed == p3.elapsed == HOUR
    assert p1.state is TargetState.running
    raised_late = clock(P1_RESOLUTION, started_at=local(11, 10), now=local(11, 13))
    assert raised_late.state is TargetState.breached
    assert raised_late.breached_at == local(11, 12)


# --- pauses

TWO_HOURS = Target(TargetKind.resolution, minutes=120, business_time=False)
WAITING = (
    StatusChange(local(11, 10), "open"),
    StatusChange(local(11, 10, 30), PENDING_ON_CUSTOMER),
    StatusChange(local(11, 11, 30), "open"),
)


def test_waiting_on_the_customer_pauses_resolution_and_shifts_the_due_instant() -> None:
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 12), history=WAITING)
    assert state.due_at == local(11, 13)
    assert (state.elapsed, state.paused) == (HOUR, HOUR)
    assert state.state is TargetState.running


def test_while_paused_the_due_instant_is_projected_from_now() -> None:
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 11), history=WAITING)
    assert state.state is TargetState.paused
    assert state.due_at == local(11, 12, 30)
    assert (state.elapsed, state.paused) == (30 * MINUTE, 30 * MINUTE)
    assert state.warning_at == (local(11, 12),)


def test_paused_wins_over_warning() -> None:
    history = (StatusChange(local(11, 11, 40), PENDING_ON_CUSTOMER),)
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 12), history=history)
    assert state.state is TargetState.paused
    assert state.elapsed == 100 * MINUTE


def test_waiting_on_a_third_party_does_not_pause_by_default() -> None:
    history = (StatusChange(local(11, 10, 30), status_key("pending", "third_party")),)
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 12), history=history)
    assert state.paused == ZERO
    assert state.state is TargetState.breached


def test_response_targets_do_not_pause_by_default_but_can_be_told_to() -> None:
    target = Target(TargetKind.first_response, minutes=60, business_time=False)
    history = (StatusChange(local(11, 10), PENDING_ON_CUSTOMER),)
    state = clock(target, started_at=local(11, 10), now=local(11, 10, 30), history=history)
    assert state.elapsed == 30 * MINUTE
    told = compute_clock(
        target,
        calendar=DESK,
        started_at=local(11, 10),
        now=local(11, 10, 30),
        history=history,
        paused_statuses=frozenset({PENDING_ON_CUSTOMER}),
    )
    assert (told.elapsed, told.paused, told.state) == (ZERO, 30 * MINUTE, TargetState.paused)


def test_a_status_set_before_the_clock_starts_applies_from_the_start() -> None:
    history = (
        StatusChange(local(11, 9), "new"),
        StatusChange(local(11, 9, 30), PENDING_ON_CUSTOMER),
        StatusChange(local(11, 13), "open"),
        StatusChange(local(11, 18), "open"),  # after now: not known yet
    )
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 14), history=history)
    assert (state.paused, state.elapsed) == (3 * HOUR, HOUR)


def test_paused_time_is_measured_in_business_time_for_business_targets() -> None:
    history = (
        StatusChange(local(11, 20), PENDING_ON_CUSTOMER),
        StatusChange(local(12, 10), "open"),
    )
    state = clock(P1_RESOLUTION, started_at=local(11, 19), now=local(12, 10), history=history)
    assert state.paused == 2 * HOUR  # 20:00-21:00 and 09:00-10:00
    assert state.elapsed == HOUR
    assert state.due_at == local(12, 11)
    assert state.state is TargetState.running  # resumed at exactly now


def test_a_pause_that_starts_exactly_now_is_in_force() -> None:
    history = (StatusChange(local(11, 11), PENDING_ON_CUSTOMER),)
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 11), history=history)
    assert (state.state, state.elapsed, state.paused) == (TargetState.paused, HOUR, ZERO)


def test_next_response_runs_from_the_customer_message() -> None:
    target = Target(TargetKind.next_response, minutes=30, business_time=True)
    message = local(12, 20, 45)
    state = clock(target, started_at=message, now=local(12, 21, 30))
    assert state.due_at == local(13, 9, 15)
    assert state.kind is TargetKind.next_response
    assert default_paused_statuses(TargetKind.next_response) == frozenset()


# --- as of now


def test_a_clock_that_has_not_started_yet_has_nothing_elapsed() -> None:
    state = clock(TWO_HOURS, started_at=local(11, 12), now=local(11, 10))
    assert (state.elapsed, state.paused, state.state) == (ZERO, ZERO, TargetState.running)
    assert state.due_at == local(11, 14)


def test_a_reply_after_now_is_not_known_yet() -> None:
    state = clock(TWO_HOURS, started_at=local(11, 10), now=local(11, 11), met_at=local(11, 11, 30))
    assert state.met_at is None
    assert state.state is TargetState.running


def test_status_keys() -> None:
    assert status_key("open") == "open"
    assert status_key("pending", "customer") == PENDING_ON_CUSTOMER
    assert default_paused_statuses(TargetKind.resolution) == frozenset({PENDING_ON_CUSTOMER})


def test_no_warning_fractions_means_no_warning_state() -> None:
    state = compute_clock(
        TWO_HOURS,
        calendar=DESK,
        started_at=local(11, 10),
        now=local(11, 11, 59),
        warning_fractions=(),
    )
    assert (state.state, state.warning_at) == (TargetState.running, ())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"met_at": local(11, 9)}, "met_at is before started_at", id="early_reply"),
        pytest.param(
            {"now": local(11, 12).replace(tzinfo=None)}, "now must be an aware", id="naive"
        ),
        pytest.param({"warning_fractions": (1.0,)}, "between 0 and 1", id="fraction_one"),
        pytest.param({"warning_fractions": (0.0,)}, "between 0 and 1", id="fraction_zero"),
        pytest.param(
            {"history": (StatusChange(local(11, 11), "open"), StatusChange(local(11, 10), "new"))},
            "chronological",
            id="unordered",
        ),
    ],
)
def test_invalid_inputs_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "calendar": DESK,
        "started_at": local(11, 10),
        "now": local(11, 12),
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        compute_clock(TWO_HOURS, **arguments)  # type: ignore[arg-type]


def test_a_target_needs_positive_minutes() -> None:
    with pytest.raises(ValueError, match="positive number of minutes"):
        Target(TargetKind.resolution, minutes=0)


# --- properties

START = datetime(2026, 5, 11, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, a Monday
STATUSES = ["new", "open", "in_progress", PENDING_ON_CUSTOMER, "pending:third_party"]
CALENDARS = [
    DESK,
    ROUND_THE_CLOCK,
    weekdays("America/New_York"),
    twenty_four_seven("Europe/Berlin"),
]

offsets = st.integers(0, 6 * 24 * 60).map(lambda minutes: minutes * MINUTE)
histories = st.lists(st.tuples(offsets, st.sampled_from(STATUSES)), max_size=8).map(
    lambda changes: tuple(StatusChange(START + at, status) for at, status in sorted(changes))
)
targets = st.builds(
    Target,
    st.sampled_from(TargetKind),
    st.integers(1, 3 * 24 * 60),
    st.booleans(),
)


def replay(
    target: Target,
    calendar: BusinessCalendar,
    history: tuple[StatusChange, ...],
    now: datetime,
    met_at: datetime | None = None,
) -> ClockState:
    return compute_clock(
        target,
        calendar=calendar,
        started_at=START,
        now=now,
        history=history,
        met_at=met_at,
        paused_statuses=frozenset({PENDING_ON_CUSTOMER}),
    )


@given(targets, st.sampled_from(CALENDARS), histories, offsets)
def test_elapsed_and_paused_make_up_the_whole_span(
    target: Target,
    calendar: BusinessCalendar,
    history: tuple[StatusChange, ...],
    now_offset: timedelta,
) -> None:
    now = START + now_offset
    state = replay(target, calendar, history, now)
    whole = business_time_between(calendar, START, now) if target.business_time else now - START
    assert state.elapsed + state.paused == whole
    assert state.remaining == target.duration - state.elapsed
    assert state.due_at >= START
    assert (state.state is TargetState.breached) == (state.elapsed >= target.duration)


@given(targets, st.sampled_from(CALENDARS), histories, offsets, offsets)
def test_pauses_never_shorten_elapsed_time(
    target: Target,
    calendar: BusinessCalendar,
    history: tuple[StatusChange, ...],
    first: timedelta,
    second: timedelta,
) -> None:
    earlier, later = sorted((first, second))
    before = replay(target, calendar, history, START + earlier)
    after = replay(target, calendar, history, START + later)
    assert before.elapsed <= after.elapsed
    assert before.paused <= after.paused
    assert before.due_at <= after.due_at  # the due instant never moves earlier as time passes


@given(targets, st.sampled_from(CALENDARS), histories, offsets, offsets, offsets)
def test_adding_a_pause_never_brings_the_due_instant_forward(
    target: Target,
    calendar: BusinessCalendar,
    history: tuple[StatusChange, ...],
    pause_from: timedelta,
    pause_length: timedelta,
    now_offset: timedelta,
) -> None:
    now = START + now_offset
    paused_from, resumed_at = START + pause_from, START + pause_from + pause_length
    status_then = "open"
    for change in history:
        if change.at <= resumed_at:
            status_then = change.status
    with_pause = tuple(
        sorted(
            (
                *(change for change in history if not paused_from <= change.at <= resumed_at),
                StatusChange(paused_from, PENDING_ON_CUSTOMER),
                StatusChange(resumed_at, status_then),
            ),
            key=lambda change: change.at,
        )
    )
    plain = replay(target, calendar, history, now)
    pausing = replay(target, calendar, with_pause, now)
    assert pausing.due_at >= plain.due_at
    assert pausing.elapsed <= plain.elapsed
    assert pausing.paused >= plain.paused


@given(targets, st.sampled_from(CALENDARS), histories, offsets)
def test_met_exactly_when_the_reply_comes_by_the_due_instant(
    target: Target, calendar: BusinessCalendar, history: tuple[StatusChange, ...], reply: timedelta
) -> None:
    met_at = START + reply
    unanswered = replay(target, calendar, history, met_at)
    answered = replay(target, calendar, history, met_at + timedelta(days=30), met_at=met_at)
    assert answered.due_at == unanswered.due_at
    assert answered.elapsed == unanswered.elapsed
    assert answered.met_at == met_at
    if met_at <= unanswered.due_at:
        assert (answered.state, answered.breached_at) == (TargetState.met, None)
    else:
        assert (answered.state, answered.breached_at) == (TargetState.breached, answered.due_at)
