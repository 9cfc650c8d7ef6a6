"""Jobs with an external effect (``ExternalEffect``): the intent commits before the effect, the
outcome with the job's fate after it, and nothing runs when the lease is gone.

Each step leaves a marker (a job far in the future, ``test.marker``) so that what committed can be
read back: a marker of a rolled-back step is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests.conftest import START

from closeloop.db.session import UnitOfWork
from closeloop.jobs import ExternalEffect, JobRegistry, enqueue
from closeloop.jobs.domain import Backoff
from closeloop.jobs.models import Job
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock

from .support import only_job

FAR = START + timedelta(days=365)


class Probe:
    """The three steps, configurable, recording what ran."""

    def __init__(self) -> None:
        self.performed: list[str] = []
        self.prepare_returns: str | None = "plan"
        self.perform_raises: Exception | None = None
        self.finish_returns: Exception | None = None
        self.steal_lease = False

    def prepare(self, uow: UnitOfWork, payload: Mapping[str, Any]) -> str | None:
        _mark(uow, "prepare")
        if self.steal_lease:  # another worker reclaimed the job meanwhile
            uow.session.execute(
                update(Job).where(Job.name == "test.effect").values(locked_by="worker-b")
            )
        return self.prepare_returns

    def perform(self, plan: str) -> str:
        if self.perform_raises is not None:
            raise self.perform_raises
        self.performed.append(plan)
        return "accepted"

    def finish(self, uow: UnitOfWork, plan: str, outcome: str) -> Exception | None:
        _mark(uow, f"finish:{outcome}")
        return self.finish_returns


def _mark(uow: UnitOfWork, step: str) -> None:
    enqueue(uow, "test.marker", {"step": step}, run_at=FAR)


def _markers(make_uow: Callable[[], UnitOfWork]) -> list[str]:
    with make_uow() as uow:
        jobs = uow.session.scalars(select(Job).where(Job.name == "test.marker").order_by(Job.id))
        return [str(job.payload["step"]) for job in jobs]


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def worker(session_factory: Callable[[], Session], clock: FrozenClock, probe: Probe) -> Worker:
    registry = JobRegistry()
    registry.register("test.effect", ExternalEffect(probe.prepare, probe.perform, probe.finish))
    return Worker(
        session_factory,
        registry,
        (),
        clock,
        "worker-a",
        poll_interval=0.01,
        backoff=Backoff(jitter=0),
    )


@pytest.fixture(autouse=True)
def queued(make_uow: Callable[[], UnitOfWork]) -> None:
    with make_uow() as uow:
        enqueue(uow, "test.effect", {})
        uow.commit()


def test_the_intent_and_the_outcome_commit_around_the_effect(
    make_uow: Callable[[], UnitOfWork], worker: Worker, probe: Probe
) -> None:
    assert worker.run_until_idle() == 1
    assert probe.performed == ["plan"]
    assert _markers(make_uow) == ["prepare", "finish:accepted"]
    with make_uow() as uow:
        assert only_job(uow, "test.effect").status == "succeeded"


def test_the_intent_survives_an_effect_that_raises(
    make_uow: Callable[[], UnitOfWork], worker: Worker, probe: Probe, clock: FrozenClock
) -> None:
    probe.perform_raises = ConnectionResetError("the server hung up")
    worker.run_until_idle()

    assert _markers(make_uow) == ["prepare"]  # committed before the effect
    with make_uow() as uow:
        job = only_job(uow, "test.effect")
        assert (job.status, job.run_at) == ("failed", clock.now() + timedelta(seconds=10))
        assert job.last_error == "ConnectionResetError: the server hung up"


def test_a_failed_outcome_commits_with_the_failed_attempt(
    make_uow: Callable[[], UnitOfWork], worker: Worker, probe: Probe, clock: FrozenClock
) -> None:
    probe.finish_returns = ConnectionRefusedError("recipients refused")
    worker.run_until_idle()

    assert _markers(make_uow) == ["prepare", "finish:accepted"]
    with make_uow() as uow:
        job = only_job(uow, "test.effect")
        assert (job.status, job.attempts) == ("failed", 1)
        assert job.run_at == clock.now() + timedelta(seconds=10)
        assert job.last_error == "ConnectionRefusedError: recipients refused"


def test_nothing_to_do_succeeds_without_the_effect(
    make_uow: Callable[[], UnitOfWork], worker: Worker, probe: Probe
) -> None:
    probe.prepare_returns = None
    worker.run_until_idle()

    assert probe.performed == []
    assert _markers(make_uow) == ["prepare"]
    with make_uow() as uow:
        assert only_job(uow, "test.effect").status == "succeeded"


def test_no_effect_once_the_lease_is_lost(
    make_uow: Callable[[], UnitOfWork], worker: Worker, probe: Probe
) -> None:
    probe.steal_lease = True
    worker.run_until_idle()

    assert probe.performed == []
    assert _markers(make_uow) == []  # the intent rolled back with the lost lease
