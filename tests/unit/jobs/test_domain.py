"""Pure parts of the job queue: backoff, error text, task names, schedule slots, the registry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from closeloop.db.session import UnitOfWork
from closeloop.jobs import JobRegistry, PeriodicJob
from closeloop.jobs.domain import (
    MAX_ERROR_LENGTH,
    Backoff,
    describe_error,
    error_location,
    is_task_name,
)
from closeloop.jobs.registry import UnknownTask
from closeloop.jobs.schedule import due_ticks, slot_start, tick_key


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 10), (2, 20), (3, 40), (4, 80), (9, 2560), (10, 3600), (11, 3600), (10_000, 3600)],
)
def test_backoff_doubles_from_10_seconds_up_to_an_hour(attempt: int, seconds: int) -> None:
    assert Backoff(jitter=0).delay(attempt) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("fraction", "seconds"),
    [(0.0, 36), (0.25, 38), (0.5, 40), (0.75, 42), (0.999_999, 43.999_992)],
)
def test_jitter_spreads_ten_percent_either_way(fraction: float, seconds: float) -> None:
    delay = Backoff().delay(3, fraction)
    assert delay.total_seconds() == pytest.approx(seconds)


def test_jitter_never_passes_the_cap() -> None:
    assert Backoff().delay(20, 0.999) == timedelta(hours=1)
    assert Backoff().delay(20, 0.0) == timedelta(seconds=3240)


def test_error_text_keeps_the_cause_and_drops_secrets() -> None:
    error = ConnectionError(
        "postgresql://closeloop:s3cret@db:5432/x unreachable; token=abc123; "
        "Authorization: Bearer xyz; mail wang.fang@example.cn, phone +86 138 0013 8000"
    )
    assert describe_error(error) == (
        "ConnectionError: postgresql://[redacted]@db:5432/x unreachable; token=[redacted]; "
        "Authorization: [redacted]; mail [redacted], phone [redacted]"
    )


def test_error_text_is_truncated() -> None:
    text = describe_error(ValueError("x" * 5000))
    assert len(text) == MAX_ERROR_LENGTH
    assert text.startswith("ValueError: xxx")
    assert text.endswith("x…")


def test_error_location_names_the_raising_line() -> None:
    def fail() -> None:
        raise KeyError("k")

    try:
        fail()
    except KeyError as error:
        location = error_location(error)
    assert location.startswith("tests/unit/jobs/test_domain.py:") or "test_domain.py:" in location
    assert location.endswith(" in fail")
    assert error_location(ValueError("never raised")) == "unknown"


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("sla.scan_due", True),
        ("channels.email.poll", True),
        ("jobs.purge_finished", True),
        ("scan", False),
        ("Sla.scan", False),
        ("sla.", False),
        ("sla..scan", False),
        ("sla.scan-due", False),
        ("a." + "b" * 100, False),
    ],
)
def test_task_names_are_dotted_lowercase(name: str, valid: bool) -> None:
    assert is_task_name(name) is valid


def test_slots_start_on_round_times_counted_from_the_epoch() -> None:
    now = datetime(2026, 11, 25, 2, 17, 42, tzinfo=UTC)
    assert slot_start(timedelta(minutes=1), now) == datetime(2026, 11, 25, 2, 17, tzinfo=UTC)
    assert slot_start(timedelta(minutes=15), now) == datetime(2026, 11, 25, 2, 15, tzinfo=UTC)
    assert slot_start(timedelta(hours=1), now) == datetime(2026, 11, 25, 2, tzinfo=UTC)
    assert slot_start(timedelta(days=1), now) == datetime(2026, 11, 25, tzinfo=UTC)


def test_a_tick_is_due_once_per_slot() -> None:
    scan = PeriodicJob("sla.scan_due", timedelta(minutes=1))
    roll_up = PeriodicJob("reporting.roll_up", timedelta(hours=1))
    now = datetime(2026, 11, 25, 2, 17, 42, tzinfo=UTC)
    minute = datetime(2026, 11, 25, 2, 17, tzinfo=UTC)
    hour = datetime(2026, 11, 25, 2, tzinfo=UTC)

    assert due_ticks((scan, roll_up), now=now, last_slots={}) == [(scan, minute), (roll_up, hour)]
    assert due_ticks((scan, roll_up), now=now, last_slots={"reporting.roll_up": hour}) == [
        (scan, minute)
    ]
    assert tick_key(scan, minute) == "sla.scan_due@2026-11-25T02:17:00+00:00"


@pytest.mark.parametrize(
    ("name", "every", "message"),
    [
        ("scan", timedelta(minutes=1), r"feature\.verb"),
        ("sla.scan_due", timedelta(milliseconds=10), "at least one second"),
    ],
)
def test_a_periodic_job_needs_a_task_name_and_a_period_of_a_second_or_more(
    name: str, every: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PeriodicJob(name, every)


def _noop(_uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
    return None


def test_the_registry_finds_handlers_by_name_and_refuses_doubles() -> None:
    registry = JobRegistry()
    registry.register_all({"sla.scan_due": _noop, "jobs.purge_finished": _noop})

    assert registry.handler_for("sla.scan_due") is _noop
    assert list(registry) == ["jobs.purge_finished", "sla.scan_due"]
    assert len(registry) == 2
    assert "sla.scan_due" in registry
    with pytest.raises(ValueError, match="twice"):
        registry.register("sla.scan_due", _noop)
    with pytest.raises(ValueError, match=r"feature\.verb"):
        registry.register("scan", _noop)
    with pytest.raises(UnknownTask):
        registry.handler_for("sla.unknown")
