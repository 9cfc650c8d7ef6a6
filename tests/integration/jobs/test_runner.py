"""The worker: success, retries with backoff, dead letters, leases, the periodic schedule."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import START

from closeloop.db.session import UnitOfWork, create_session_factory
from closeloop.jobs import PeriodicJob, enqueue
from closeloop.jobs.domain import Backoff
from closeloop.jobs.models import Job
from closeloop.jobs.repository import LEASE_EXPIRED_ERROR
from closeloop.jobs.runner import DEFAULT_LEASE, Worker
from closeloop.kit.clock import FrozenClock

from .support import count_jobs, only_job, registry_of

NO_JITTER = Backoff(jitter=0)
Payloads = list[dict[str, Any]]


def _worker(
    session_factory: Callable[[], Session],
    clock: FrozenClock,
    worker_id: str = "worker-a",
    schedule: tuple[PeriodicJob, ...] = (),
    **handlers: Callable[[UnitOfWork, Mapping[str, Any]], None],
) -> Worker:
    return Worker(
        session_factory,
        registry_of(**handlers),
        schedule,
        clock,
        worker_id,
        batch=10,
        poll_interval=0.01,
        backoff=NO_JITTER,
    )


def _enqueue(
    make_uow: Callable[[], UnitOfWork], name: str, *, max_attempts: int = 8, **payload: Any
) -> None:
    with make_uow() as uow:
        enqueue(uow, name, payload, max_attempts=max_attempts)
        uow.commit()


def _failing(message: str) -> Callable[[UnitOfWork, Mapping[str, Any]], None]:
    def handler(_uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
        raise ConnectionError(message)

    return handler


def test_a_job_runs_once_and_its_work_commits_with_its_success(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    seen: Payloads = []

    def record(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        seen.append(dict(payload))
        enqueue(uow, "test.follow_up", {"after": payload["value"]})

    _enqueue(make_uow, "test.record", value=7)
    worker = _worker(session_factory, clock, record=record, follow_up=lambda _u, _p: None)

    assert worker.run_once() == 1
    assert seen == [{"value": 7}]
    with make_uow() as uow:
        job = only_job(uow, "test.record")
        assert (job.status, job.attempts, job.finished_at) == ("succeeded", 1, START)
        assert (job.locked_by, job.locked_until, job.last_error) == (None, None, None)
        follow_up = only_job(uow, "test.follow_up")
        assert (follow_up.status, follow_up.payload) == ("queued", {"after": 7})
    assert worker.run_once() == 1  # the follow-up
    assert worker.run_once() == 0
    assert seen == [{"value": 7}]


def test_a_failed_attempt_rolls_back_and_retries_after_10_20_40_seconds_then_dies(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    def flaky(uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
        enqueue(uow, "test.side_effect", {})
        raise ConnectionError("smtp://mailer:hunter2@mail.example.cn refused, password=hunter2")

    _enqueue(make_uow, "test.flaky", max_attempts=4)
    worker = _worker(session_factory, clock, flaky=flaky, side_effect=lambda _u, _p: None)

    expected_waits = [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    for attempt, wait in enumerate(expected_waits, start=1):
        assert worker.run_once() == 1
        with make_uow() as uow:
            job = only_job(uow, "test.flaky")
            assert (job.status, job.attempts) == ("failed", attempt)
            assert job.run_at == clock.now() + wait
            assert job.finished_at is None
            assert job.locked_by is None
            assert count_jobs(uow, name="test.side_effect") == 0
        clock.advance(wait - timedelta(seconds=1))
        assert worker.run_once() == 0  # not due yet
        clock.advance(timedelta(seconds=1))

    failed_at = clock.now()
    assert worker.run_once() == 1
    with make_uow() as uow:
        job = only_job(uow, "test.flaky")
        assert (job.status, job.attempts, job.finished_at) == ("dead", 4, failed_at)
        assert job.run_at == failed_at  # the last retry's due time, kept
        assert job.last_error == (
            "ConnectionError: smtp://[redacted]@mail.example.cn refused, password=[redacted]"
        )
    clock.advance(timedelta(days=1))
    assert worker.run_once() == 0


def test_one_allowed_attempt_goes_straight_to_the_dead_letters(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    _enqueue(make_uow, "test.broken", max_attempts=1)
    worker = _worker(session_factory, clock, broken=_failing("no route to host"))

    assert worker.run_once() == 1
    with make_uow() as uow:
        job = only_job(uow, "test.broken")
        assert (job.status, job.attempts, job.finished_at) == ("dead", 1, START)
        assert job.last_error == "ConnectionError: no route to host"


def test_seeded_jitter_spreads_the_wait_within_ten_percent(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    _enqueue(make_uow, "test.broken")
    worker = Worker(
        session_factory,
        registry_of(broken=_failing("down")),
        (),
        clock,
        "worker-a",
        backoff=Backoff(jitter=0.1),
        random_fraction=lambda: 0.75,  # a quarter of the band above the middle: +5 %
    )

    worker.run_once()
    with make_uow() as uow:
        assert only_job(uow, "test.broken").run_at == START + timedelta(seconds=10.5)


def test_a_job_without_a_handler_fails_and_is_retried(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    _enqueue(make_uow, "test.from_a_newer_release")
    worker = _worker(session_factory, clock)

    assert worker.run_once() == 1
    with make_uow() as uow:
        job = only_job(uow, "test.from_a_newer_release")
        assert (job.status, job.attempts) == ("failed", 1)
        assert job.last_error == "UnknownTask: test.from_a_newer_release"


def test_jobs_run_oldest_due_first_and_not_before_they_are_due(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    order: list[int] = []
    with make_uow() as uow:
        for number, delay in ((1, 30), (2, 0), (3, 10), (4, 3600)):
            enqueue(uow, "test.note", {"n": number}, run_at=START + timedelta(seconds=delay))
        uow.commit()
    worker = _worker(session_factory, clock, note=lambda _u, p: order.append(p["n"]))

    clock.advance(timedelta(seconds=30))
    assert worker.run_once() == 3
    assert order == [2, 3, 1]


def test_an_expired_lease_is_reclaimed_and_the_lost_workers_late_result_is_discarded(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    runs: list[str] = []

    def handler_of(worker_id: str) -> Callable[[UnitOfWork, Mapping[str, Any]], None]:
        def handler(uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
            runs.append(worker_id)
            enqueue(uow, "test.effect", {"by": worker_id})

        return handler

    _enqueue(make_uow, "test.send")
    crashed = _worker(
        session_factory, clock, "worker-a", send=handler_of("a"), effect=lambda _u, _p: None
    )
    survivor = _worker(
        session_factory, clock, "worker-b", send=handler_of("b"), effect=lambda _u, _p: None
    )

    [claimed] = crashed.claim()  # ... and the process is killed before running it
    with make_uow() as uow:
        job = only_job(uow, "test.send")
        assert (job.status, job.attempts, job.locked_by) == ("running", 1, "worker-a")
        assert job.locked_until == START + DEFAULT_LEASE

    clock.advance(DEFAULT_LEASE - timedelta(seconds=1))
    assert survivor.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=2))
    assert survivor.run_once() == 1  # reclaimed and run at once
    with make_uow() as uow:
        job = only_job(uow, "test.send")
        assert (job.status, job.attempts, job.locked_by) == ("succeeded", 2, None)
        assert job.last_error == LEASE_EXPIRED_ERROR

    # The first worker was only frozen, not dead: its late run must not count twice.
    assert crashed.execute(claimed) is False
    assert runs == ["b", "a"]
    with make_uow() as uow:
        assert only_job(uow, "test.effect").payload == {"by": "b"}
        assert only_job(uow, "test.send").status == "succeeded"


def test_an_expired_lease_on_the_last_attempt_is_a_dead_letter(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    _enqueue(make_uow, "test.crashes_the_worker", max_attempts=1)
    worker = _worker(session_factory, clock, crashes_the_worker=lambda _u, _p: None)
    worker.claim()
    clock.advance(DEFAULT_LEASE + timedelta(seconds=1))

    assert worker.run_once() == 0
    with make_uow() as uow:
        job = only_job(uow, "test.crashes_the_worker")
        assert (job.status, job.attempts, job.finished_at) == ("dead", 1, clock.now())
        assert job.last_error == LEASE_EXPIRED_ERROR


def test_two_schedulers_enqueue_each_tick_once(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    schedule = (PeriodicJob("test.scan", timedelta(minutes=1)),)
    clock.set(START + timedelta(seconds=20))
    first = _worker(session_factory, clock, "worker-a", schedule, scan=lambda _u, _p: None)
    second = _worker(session_factory, clock, "worker-b", schedule, scan=lambda _u, _p: None)

    assert first.enqueue_periodic() == 1
    assert second.enqueue_periodic() == 1  # tried, absorbed by the idempotency key
    clock.advance(timedelta(seconds=30))
    assert first.enqueue_periodic() == 0  # same slot: not even tried again
    assert second.enqueue_periodic() == 0
    clock.advance(timedelta(seconds=15))  # 02:01:05, the next slot
    assert second.enqueue_periodic() == 1
    assert first.enqueue_periodic() == 1
    restarted = _worker(session_factory, clock, "worker-c", schedule, scan=lambda _u, _p: None)
    assert restarted.enqueue_periodic() == 1

    with make_uow() as uow:
        jobs = list(uow.session.scalars(select(Job).order_by(Job.run_at)))
        rows = [(job.name, job.idempotency_key, job.run_at, job.payload) for job in jobs]
        attempts = [job.max_attempts for job in jobs]
    assert rows == [
        (
            "test.scan",
            "test.scan@2026-11-25T02:00:00+00:00",
            START,
            {"slot": "2026-11-25T02:00:00+00:00"},
        ),
        (
            "test.scan",
            "test.scan@2026-11-25T02:01:00+00:00",
            START + timedelta(minutes=1),
            {"slot": "2026-11-25T02:01:00+00:00"},
        ),
    ]
    assert attempts == [3, 3]


def test_a_scheduled_tick_runs_in_the_same_round(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    ticks: Payloads = []
    schedule = (PeriodicJob("test.scan", timedelta(hours=1)),)
    worker = _worker(
        session_factory, clock, "worker-a", schedule, scan=lambda _u, p: ticks.append(dict(p))
    )

    assert worker.run_once() == 1
    assert ticks == [{"slot": "2026-11-25T02:00:00+00:00"}]


def test_a_periodic_job_without_a_handler_stops_the_worker_from_starting(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with pytest.raises(ValueError, match=r"test\.unwired"):
        _worker(session_factory, clock, "w", (PeriodicJob("test.unwired", timedelta(hours=1)),))


def test_a_stop_request_finishes_the_current_job_and_gives_the_rest_back(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    stop = threading.Event()
    ran: list[int] = []

    def slow(_uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        ran.append(payload["n"])
        stop.set()  # SIGTERM arrives while the first job runs

    with make_uow() as uow:
        for number in (1, 2, 3):
            enqueue(uow, "test.slow", {"n": number})
        uow.commit()
    worker = _worker(session_factory, clock, slow=slow)

    worker.run_forever(stop)

    assert ran == [1]
    with make_uow() as uow:
        uow.session.expire_all()
        jobs = list(uow.session.scalars(select(Job).order_by(Job.id)))
        rows = [(job.status, job.attempts, job.locked_by) for job in jobs]
    assert rows == [
        ("succeeded", 1, None),
        ("queued", 0, None),
        ("queued", 0, None),
    ]


def test_run_until_idle_drains_what_is_due(
    session_factory: sessionmaker[Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
) -> None:
    with make_uow() as uow:
        for number in range(25):
            enqueue(uow, "test.noop", {"n": number})
        enqueue(uow, "test.noop", {"n": 99}, run_at=START + timedelta(minutes=1))
        uow.commit()
    worker = _worker(session_factory, clock, noop=lambda _u, _p: None)

    assert worker.run_until_idle() == 25
    with make_uow() as uow:
        assert count_jobs(uow, status="succeeded") == 25
        assert count_jobs(uow, status="queued") == 1


def test_two_worker_threads_on_one_sqlite_file_run_every_job_once(
    backend: str, scratch_engine: Engine
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL has its own, larger race in test_concurrency.py")
    factory = create_session_factory(scratch_engine)
    with UnitOfWork(factory) as uow:
        for number in range(60):
            enqueue(uow, "test.count", {"n": number})
        uow.commit()
    runs: list[int] = []
    lock = threading.Lock()

    def count(_uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        with lock:
            runs.append(payload["n"])

    stop = threading.Event()
    workers = [
        Worker(factory, registry_of(count=count), (), worker_id=f"w{n}", batch=4) for n in range(2)
    ]
    threads = [threading.Thread(target=w.run_until_idle, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(runs) == list(range(60))
    with UnitOfWork(factory) as uow:
        assert count_jobs(uow, status="succeeded", attempts=1) == 60
