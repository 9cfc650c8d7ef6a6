"""Several workers on PostgreSQL claim from one queue: every job runs exactly once.

Each worker has its own connections to a scratch database (committed data, real row locks), as
`closeloop worker --concurrency 4` or four machines would.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.conftest import POSTGRES_URL, START

from closeloop.db.session import UnitOfWork, create_session_factory
from closeloop.jobs import PeriodicJob, enqueue
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock

from .support import count_jobs, registry_of

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="CLOSELOOP_TEST_DATABASE_URL is unset")

JOBS = 200
WORKERS = 4


@pytest.fixture
def backend() -> str:
    """This module runs on PostgreSQL only (the root fixture would add SQLite)."""
    return "postgresql"


def test_four_workers_run_each_of_200_jobs_exactly_once(scratch_engine: Engine) -> None:
    with scratch_engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE job_runs (job_number integer NOT NULL, worker text NOT NULL)"
        )
    factory = create_session_factory(scratch_engine)
    with UnitOfWork(factory) as uow:
        for number in range(JOBS):
            enqueue(uow, "test.count", {"n": number})
        uow.commit()

    def count(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        # In the job's own transaction: a run that did not commit leaves no row.
        uow.session.execute(
            text("INSERT INTO job_runs (job_number, worker) VALUES (:n, :worker)"),
            {"n": payload["n"], "worker": threading.current_thread().name},
        )

    barrier = threading.Barrier(WORKERS)
    stop = threading.Event()
    errors: list[BaseException] = []

    def run(worker: Worker) -> None:
        try:
            barrier.wait(timeout=10)
            worker.run_until_idle(stop)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [
        Worker(factory, registry_of(count=count), (), worker_id=f"worker-{n}", batch=5)
        for n in range(WORKERS)
    ]
    threads = [
        threading.Thread(target=run, args=(worker,), name=worker.worker_id) for worker in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    with scratch_engine.connect() as connection:
        runs = connection.execute(text("SELECT job_number, worker FROM job_runs")).all()
    per_job = Counter(row.job_number for row in runs)
    assert sorted(per_job) == list(range(JOBS))
    assert set(per_job.values()) == {1}
    assert sum(Counter(row.worker for row in runs).values()) == JOBS
    with UnitOfWork(factory) as uow:
        assert count_jobs(uow, status="succeeded", attempts=1) == JOBS
        assert count_jobs(uow) == JOBS


def test_four_schedulers_racing_on_one_tick_enqueue_it_once(scratch_engine: Engine) -> None:
    factory = create_session_factory(scratch_engine)
    schedule = (PeriodicJob("test.scan", timedelta(minutes=1)),)
    clock = FrozenClock(START + timedelta(seconds=59))
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    workers = [
        Worker(factory, registry_of(scan=lambda _u, _p: None), schedule, clock, f"s{n}")
        for n in range(WORKERS)
    ]

    def tick(worker: Worker) -> None:
        try:
            barrier.wait(timeout=10)
            worker.enqueue_periodic()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=tick, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with UnitOfWork(factory) as uow:
        assert count_jobs(uow, name="test.scan") == 1
        assert count_jobs(uow, idempotency_key="test.scan@2026-11-25T02:00:00+00:00") == 1
