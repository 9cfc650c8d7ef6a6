from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.sla.calendar import seven_by_twelve
from closeloop.sla.clock import ClockState, Target, TargetKind, compute_clock
from closeloop.sla.escalation import EscalationStep, due_steps

MINUTE = timedelta(minutes=1)
START = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
DESK = seven_by_twelve("Asia/Shanghai")
TARGET = Target(TargetKind.resolution, minutes=120, business_time=True)

# The ladder of the issue: tell the assignee at 75 %, the team lead at the breach, and 30 minutes
# after the breach the manager, raising the priority.
LADDER = (
    EscalationStep(at_fraction=0.75, after_breach=None, action="notify", notify=("assignee",)),
    EscalationStep(at_fraction=None, after_breach=timedelta(0), action="notify", notify=("lead",)),
    EscalationStep(
        at_fraction=None,
        after_breach=timedelta(minutes=30),
        action="raise_priority",
        notify=("manager",),
    ),
)


def state_at(minutes: int, *, met_after: int | None = None) -> ClockState:
    return compute_clock(
        TARGET,
        calendar=DESK,
        started_at=START,
        now=START + minutes * MINUTE,
        met_at=None if met_after is None else START + met_after * MINUTE,
    )


def due(
    minutes: int, fired: frozenset[int] = frozenset(), met_after: int | None = None
) -> list[int]:
    now = START + minutes * MINUTE
    return due_steps(state_at(minutes, met_after=met_after), TARGET, LADDER, fired, now)


@pytest.mark.parametrize(
    ("minutes", "fired", "expected"),
    [
        pytest.param(89, frozenset(), [], id="before_75_percent_case"),
        pytest.param(90, frozenset(), [0], id="at_75_percent_case"),
        pytest.param(100, frozenset({0}), [], id="warned_already_case"),
        pytest.param(120, frozenset({0}), [1], id="at_the_breach_case"),
        pytest.param(149, frozenset({0, 1}), [], id="before_the_manager_case"),
        pytest.param(150, frozenset({0, 1}), [2], id="30_minutes_after_the_breach_case"),
        pytest.param(150, frozenset(), [0, 1, 2], id="a_late_scan_fires_all_in_order_case"),
        pytest.param(500, frozenset({0, 1, 2}), [], id="all_fired_case"),
    ],
)
def test_the_ladder_of_the_issue(minutes: int, fired: frozenset[int], expected: list[int]) -> None:
    assert due(minutes, fired) == expected


def test_a_satisfied_target_escalates_no_further() -> None:
    assert due(100, met_after=95) == []
    assert state_at(200, met_after=130).breached_at is not None  # met late
    assert due(200, met_after=130) == []


def test_a_fraction_above_one_fires_after_the_breach() -> None:
    late = (EscalationStep(at_fraction=1.5, after_breach=None, action="reassign"),)
    assert due_steps(state_at(179), TARGET, late, frozenset(), START + 179 * MINUTE) == []
    assert due_steps(state_at(180), TARGET, late, frozenset(), START + 180 * MINUTE) == [0]


@pytest.mark.parametrize(
    ("at_fraction", "after_breach", "action", "message"),
    [
        pytest.param(None, None, "notify", "exactly one of", id="neither"),
        pytest.param(0.5, timedelta(0), "notify", "exactly one of", id="both"),
        pytest.param(0.0, None, "notify", "must be positive", id="zero_fraction"),
        pytest.param(None, -MINUTE, "notify", "must not be negative", id="negative_delay"),
        pytest.param(0.5, None, "", "needs an action", id="no_action"),
    ],
)
def test_invalid_steps_are_refused(
    at_fraction: float | None, after_breach: timedelta | None, action: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        EscalationStep(at_fraction=at_fraction, after_breach=after_breach, action=action)


steps = st.lists(
    st.one_of(
        st.builds(
            EscalationStep,
            at_fraction=st.floats(0.05, 2.0),
            after_breach=st.none(),
            action=st.just("notify"),
        ),
        st.builds(
            EscalationStep,
            at_fraction=st.none(),
            after_breach=st.integers(0, 600).map(lambda minutes: minutes * MINUTE),
            action=st.just("notify"),
        ),
    ),
    max_size=6,
)


@given(steps, st.lists(st.integers(0, 2000), max_size=12))
def test_each_step_fires_exactly_once_as_the_scans_go_by(
    ladder: list[EscalationStep], scan_minutes: list[int]
) -> None:
    fired: list[int] = []
    for minutes in [*sorted(scan_minutes), 10_000]:
        now = START + minutes * MINUTE
        fired += due_steps(state_at(minutes), TARGET, ladder, frozenset(fired), now)
    assert sorted(fired) == list(range(len(ladder)))
