"""The rules between stored data and the pure clock: hours, history, spans, evaluation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.sla.calendar import END_OF_DAY, seven_by_twelve, twenty_four_seven
from closeloop.sla.clock import Target, TargetKind, TargetState
from closeloop.sla.domain import (
    PRESETS,
    AuditFact,
    CalendarDaySpec,
    ClockSpan,
    DayKind,
    HistoryEvent,
    HistoryKind,
    LadderStep,
    TicketHistory,
    build_calendar,
    clock_spans,
    evaluate,
    format_weekly_hours,
    history_from_audit,
    is_expired,
    parse_interval,
    parse_weekly_hours,
    raised_priority,
    summarise,
    worst_state,
)
from closeloop.sla.escalation import EscalationStep

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MINUTE = timedelta(minutes=1)
DESK = seven_by_twelve("Asia/Shanghai")


def minutes(n: float) -> datetime:
    return T0 + n * MINUTE


# --- working hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        pytest.param("09:00-12:00", (time(9), time(12)), id="morning_case"),
        pytest.param(" 9:30 - 18:05 ", (time(9, 30), time(18, 5)), id="loose_spelling_case"),
        pytest.param("00:00-24:00", (time(0), END_OF_DAY), id="whole_day_case"),
    ],
)
def test_intervals_are_read_from_text(text: str, interval: tuple[time, time]) -> None:
    assert parse_interval(text) == interval


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("09:00", id="no_dash_case"),
        pytest.param("9-18", id="no_minutes_case"),
        pytest.param("09:00-25:00", id="hour_25_case"),
        pytest.param("24:00-24:00", id="24_as_start_case"),
        pytest.param("09:60-10:00", id="minute_60_case"),
        pytest.param("09:5-10:00", id="one_digit_minutes_case"),
    ],
)
def test_broken_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        parse_interval(text)


def test_weekly_hours_round_trip_through_the_calendar() -> None:
    document = {"mon": ["09:00-12:00", "13:00-21:00"], "sat": ["00:00-24:00"], "sun": []}
    hours = parse_weekly_hours(document)
    assert hours == {0: ((time(9), time(12)), (time(13), time(21))), 5: ((time(0), END_OF_DAY),)}
    calendar = build_calendar("Asia/Shanghai", document)
    assert format_weekly_hours(calendar) == {
        "mon": ["09:00-12:00", "13:00-21:00"],
        "sat": ["00:00-24:00"],
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"monday": ["09:00-18:00"]}, "unknown days", id="long_day_name_case"),
        pytest.param({"mon": "09:00-18:00"}, "expected a list", id="not_a_list_case"),
        pytest.param({"mon": ["18:00-09:00"]}, "does not end after", id="backwards_case"),
        pytest.param({"mon": ["09:00-13:00", "12:00-18:00"]}, "overlaps", id="overlapping_case"),
        pytest.param({"mon": ["0900-1800"]}, "weekly_hours.mon", id="says_where_case"),
    ],
)
def test_weekly_hours_that_cannot_work_are_refused(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_calendar("UTC", document)


def test_weekly_hours_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        parse_weekly_hours(["mon"])  # type: ignore[arg-type]


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        build_calendar("Mars/Olympus", PRESETS["7x12"])


def test_the_presets() -> None:
    assert (
        build_calendar("UTC", PRESETS["24x7"]).weekly_hours == twenty_four_seven("UTC").weekly_hours
    )
    assert (
        build_calendar("UTC", PRESETS["7x12"]).weekly_hours == seven_by_twelve("UTC").weekly_hours
    )
    assert sorted(parse_weekly_hours(PRESETS["weekdays"])) == [0, 1, 2, 3, 4]


def test_holidays_close_and_make_up_days_open_with_usual_or_own_hours() -> None:
    calendar = build_calendar(
        "Asia/Shanghai",
        PRESETS["weekdays"],
        [
            CalendarDaySpec(date(2026, 10, 1), DayKind.holiday),
            CalendarDaySpec(date(2026, 10, 10), DayKind.makeup_workday),
            CalendarDaySpec(date(2026, 9, 20), DayKind.makeup_workday, ((time(10), time(12)),)),
        ],
    )
    assert calendar.hours_on(date(2026, 10, 1)) == ()
    assert calendar.hours_on(date(2026, 10, 10)) == ((time(9), time(18)),)
    assert calendar.hours_on(date(2026, 9, 20)) == ((time(10), time(12)),)
    assert build_calendar("UTC", PRESETS["24x7"], []).holidays == frozenset()


def test_a_make_up_day_needs_hours_when_no_weekday_is_worked() -> None:
    with pytest.raises(ValueError, match="no weekday hours"):
        build_calendar(
            "UTC",
            {"sat": ["09:00-12:00"]},
            [CalendarDaySpec(date(2026, 10, 11), DayKind.makeup_workday)],
        )


# --- history ------------------------------------------------------------------------------


def fact(at: float, action: str, field: str | None, value: Any) -> AuditFact:
    return AuditFact(minutes(at), action, field, value)


def test_the_history_reads_status_changes_and_public_messages_from_the_trail() -> None:
    history = history_from_audit(
        T0,
        [
            fact(0, "ticket.created", "subject", "VPN"),
            fact(0, "ticket.created", "status", "new"),
            fact(5, "message.added", "message", {"id": 1, "kind": "public_reply"}),
            fact(5, "message.added", "first_response_at", "..."),
            fact(5, "message.added", "status", "in_progress"),
            fact(6, "message.added", "message", {"id": 2, "kind": "internal_note"}),
            fact(7, "ticket.status_changed", "status", "pending"),
            fact(7, "ticket.status_changed", "pending_reason", "customer"),
            fact(9, "message.added", "message", {"id": 3, "kind": "customer_message"}),
            fact(9, "message.added", "status", "open"),
            fact(9, "message.added", "pending_reason", None),
            fact(10, "ticket.updated", "priority", "P1"),
            fact(11, "sla.breached", "resolution", {"due_at": "..."}),
        ],
    )
    assert history.events == (
        HistoryEvent(minutes(0), HistoryKind.status, "new"),
        HistoryEvent(minutes(5), HistoryKind.public_reply),
        HistoryEvent(minutes(5), HistoryKind.status, "in_progress"),
        HistoryEvent(minutes(7), HistoryKind.status, "pending:customer"),
        HistoryEvent(minutes(9), HistoryKind.customer_message),
        HistoryEvent(minutes(9), HistoryKind.status, "open"),
    )
    assert history.current_status == "open"
    assert [c.status for c in history.status_changes] == [
        "new",
        "in_progress",
        "pending:customer",
        "open",
    ]


def test_an_empty_history_has_no_status() -> None:
    assert history_from_audit(T0, []).current_status is None


def history(*events: tuple[float, str, str | None]) -> TicketHistory:
    return TicketHistory(
        T0,
        tuple(HistoryEvent(minutes(at), HistoryKind(kind), status) for at, kind, status in events),
    )


def test_the_spans_of_a_ticket_answered_then_waiting_again() -> None:
    spans = clock_spans(
        history(
            (0, "status", "new"),
            (1, "customer_message", None),  # before the first reply: no next-response wait
            (5, "public_reply", None),
            (9, "customer_message", None),
            (10, "customer_message", None),  # still the same wait
            (12, "public_reply", None),
            (20, "customer_message", None),
        )
    )
    assert spans[TargetKind.first_response] == ClockSpan(
        TargetKind.first_response, 1, T0, minutes(5)
    )
    assert spans[TargetKind.next_response] == ClockSpan(
        TargetKind.next_response, 2, minutes(20), None
    )
    assert spans[TargetKind.resolution] == ClockSpan(TargetKind.resolution, 1, T0, None)


def test_resolving_meets_the_waiting_targets_and_reopening_resumes_resolution() -> None:
    resolved = clock_spans(
        history(
            (0, "status", "new"),
            (5, "public_reply", None),
            (8, "customer_message", None),
            (30, "status", "resolved"),
            (40, "status", "closed"),
        )
    )
    assert resolved[TargetKind.next_response].met_at == minutes(30)
    assert resolved[TargetKind.resolution].met_at == minutes(30)
    reopened = clock_spans(
        history((0, "status", "new"), (30, "status", "resolved"), (50, "status", "open"))
    )
    assert reopened[TargetKind.resolution].met_at is None
    # Resolved before any reply: resolving answered the customer.
    assert reopened[TargetKind.first_response].met_at == minutes(30)
    assert TargetKind.next_response not in reopened


def test_a_customer_writing_after_a_resolution_without_reply_starts_a_wait() -> None:
    spans = clock_spans(
        history((0, "status", "new"), (30, "status", "resolved"), (40, "customer_message", None))
    )
    assert spans[TargetKind.next_response] == ClockSpan(
        TargetKind.next_response, 1, minutes(40), None
    )


# --- evaluating a target ------------------------------------------------------------------

TARGET = Target(TargetKind.resolution, 120)
LADDER = (
    LadderStep(0, EscalationStep(0.5, None, "notify_assignee")),
    LadderStep(1, EscalationStep(None, timedelta(0), "notify_team_lead")),
    LadderStep(2, EscalationStep(None, timedelta(minutes=30), "raise_priority")),
)
OPEN = history((0, "status", "open"))


def run(at: float, *, fired: frozenset[int] = frozenset(), hist: TicketHistory = OPEN) -> Any:
    span = clock_spans(hist)[TargetKind.resolution]
    return evaluate(
        TARGET,
        span,
        calendar=DESK,
        history=hist,
        now=minutes(at),
        warning_fractions=(0.75,),
        ladder=LADDER,
        fired=fired,
    )


def test_a_ladder_step_before_the_warning_does_not_warn() -> None:
    at_60 = run(60)
    assert at_60.state.state is TargetState.running  # 50 % step reached, 75 % warning not
    assert at_60.due_positions == (0,)
    assert at_60.next_check_at == minutes(60)  # the step is due now
    assert at_60.warning_at == minutes(90)
    assert run(60, fired=frozenset({0})).next_check_at == minutes(90)  # then the warning


def test_the_next_check_walks_through_warning_breach_and_steps() -> None:
    assert run(10).next_check_at == minutes(60)
    assert run(95, fired=frozenset({0})).state.state is TargetState.warning
    assert run(95, fired=frozenset({0})).next_check_at == minutes(120)
    breached = run(121, fired=frozenset({0}))
    assert (breached.state.state, breached.due_positions) == (TargetState.breached, (1,))
    assert run(121, fired=frozenset({0, 1})).next_check_at == minutes(150)
    assert run(151, fired=frozenset({0, 1, 2})).next_check_at is None


def test_a_paused_clock_has_no_next_check_unless_a_step_is_overdue() -> None:
    waiting = history((0, "status", "open"), (70, "status", "pending:customer"))
    paused = run(200, hist=waiting, fired=frozenset({0}))
    assert paused.state.state is TargetState.paused
    assert paused.next_check_at is None
    overdue = run(200, hist=waiting)  # the 50 % step passed before the pause and never fired
    assert (overdue.due_positions, overdue.next_check_at) == ((0,), minutes(60))


def test_a_met_clock_has_no_next_check() -> None:
    done = history((0, "status", "open"), (30, "status", "resolved"))
    assert run(40, hist=done).next_check_at is None
    assert run(40, hist=done).state.state is TargetState.met


def test_the_summary_is_the_earliest_running_due_and_the_worst_state() -> None:
    assert summarise([]) == (None, None)
    assert summarise(
        [
            (TargetState.running, minutes(30), None),
            (TargetState.paused, minutes(10), None),
            (TargetState.met, minutes(5), minutes(4)),
        ]
    ) == (minutes(30), TargetState.running)
    assert summarise(
        [(TargetState.breached, minutes(5), minutes(9)), (TargetState.warning, minutes(40), None)]
    ) == (minutes(40), TargetState.breached)


@given(st.lists(st.sampled_from(list(TargetState)), min_size=1))
def test_the_worst_state_is_one_of_the_states_and_ranks_highest(
    states: list[TargetState],
) -> None:
    order = [
        TargetState.met,
        TargetState.paused,
        TargetState.running,
        TargetState.warning,
        TargetState.breached,
    ]
    worst = worst_state(states)
    assert worst in states
    assert all(order.index(s) <= order.index(worst) for s in states)


def test_raising_a_priority() -> None:
    assert [raised_priority(p) for p in ("P4", "P3", "P2", "P1")] == ["P3", "P2", "P1", None]


def test_steps_a_day_overdue_are_expired() -> None:
    assert not is_expired(T0, T0 + timedelta(hours=24))
    assert is_expired(T0, T0 + timedelta(hours=24, seconds=1))
