"""The worker loop: enqueue due periodic ticks, claim due jobs, run each, retry or dead-letter.

Guarantees (docs/subsystems/jobs.md):

* **Claiming is exclusive.** A job is leased to one worker at a time (``repository.claim``).
* **Success commits with the work.** The handler's changes and the job's ``succeeded`` mark are
  one transaction, so a job whose database work committed is never run again.
* **At least once.** A worker that dies mid-job leaves a lease that expires; another worker
  reclaims the job and runs it again. Handlers with external effects must be idempotent.
  An :class:`~closeloop.jobs.registry.ExternalEffect` job commits its intent before the effect
  and its outcome right after it, so a crash repeats the effect only if it landed in between.
* **Failures are kept.** A failed attempt is rolled back, then recorded in its own transaction
  with an exponential backoff; after ``max_attempts`` the job is dead and waits for an admin.

This module (with ``db/session.py``, the delivery layers and ``cli.py``) may commit: see CL001.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from closeloop.db.session import UnitOfWork
from closeloop.jobs import repository
from closeloop.jobs.domain import Backoff, ClaimedJob, describe_error, error_location
from closeloop.jobs.registry import ExternalEffect, JobRegistry
from closeloop.jobs.schedule import SCHEDULE, PeriodicJob, due_ticks, enqueue_ticks
from closeloop.kit.clock import Clock, SystemClock
from closeloop.kit.events import EventBus
from closeloop.kit.logging import get_logger

DEFAULT_BATCH = 10
DEFAULT_POLL_INTERVAL = 1.0
# Longer than any handler should take. A job still running when its lease ends is presumed
# lost and runs again elsewhere; split long work into several jobs instead of raising this.
DEFAULT_LEASE = timedelta(minutes=5)
_LONGEST_ERROR_PAUSE = 60.0

log = get_logger(__name__)


def worker_identity(suffix: str = "") -> str:
    """``host:pid:random[-suffix]``: unique per worker, readable in ``jobs.locked_by``."""
    identity = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    return f"{identity}-{suffix}" if suffix else identity


class Worker:
    """Runs jobs from the ``jobs`` table. Several workers, in one process or on many machines,
    may share a database: claiming is race-free on SQLite and PostgreSQL."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        registry: JobRegistry,
        schedule: Sequence[PeriodicJob] = SCHEDULE,
        clock: Clock | None = None,
        worker_id: str | None = None,
        batch: int = DEFAULT_BATCH,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        *,
        read_session_factory: Callable[[], Session] | None = None,
        bus: EventBus | None = None,
        lease: timedelta = DEFAULT_LEASE,
        backoff: Backoff | None = None,
        random_fraction: Callable[[], float] | None = None,
    ) -> None:
        missing = sorted({job.name for job in schedule if job.name not in registry})
        if missing:
            raise ValueError(f"periodic jobs without a registered handler: {', '.join(missing)}")
        if batch < 1 or poll_interval <= 0 or lease <= timedelta(0):
            raise ValueError("batch, poll_interval and lease must be positive")
        self._session_factory = session_factory
        self._read_session_factory = read_session_factory
        self._registry = registry
        self._schedule = tuple(schedule)
        self._clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or worker_identity()
        self._batch = batch
        self._poll_interval = poll_interval
        self._bus = bus or EventBus()
        self._lease = lease
        self._backoff = backoff or Backoff()
        self._random_fraction = random_fraction or random.Random().random
        self._last_slots: dict[str, datetime] = {}
        self._stop_event = threading.Event()
        self._log = log.bind(worker_id=self.worker_id)

    # --- one round ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Enqueue due periodic ticks, then claim and run one batch. Returns how many jobs ran."""
        self.enqueue_periodic()
        if self._read_session_factory is not None and not self._anything_due():
            return 0
        jobs = self.claim()
        for index, job in enumerate(jobs):
            if self._stop_event.is_set():
                self._release(jobs[index:])
                return index
            self.execute(job)
        return len(jobs)

    def run_until_idle(self, stop_event: threading.Event | None = None) -> int:
        """Run batches until nothing is due (``closeloop worker --once``). Returns the count."""
        if stop_event is not None:
            self._stop_event = stop_event
        total = 0
        while not self._stop_event.is_set():
            ran = self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll until ``stop_event`` is set; the job in progress finishes, unstarted ones of the
        batch are given back. Database errors are logged and retried with a growing pause."""
        self._stop_event = stop_event
        self._log.info("worker.started", batch=self._batch, poll_interval=self._poll_interval)
        errors = 0
        while not stop_event.is_set():
            try:
                ran = self.run_once()
            except Exception as error:
                errors += 1
                pause = min(self._poll_interval * 2**errors, _LONGEST_ERROR_PAUSE)
                self._log.error(
                    "worker.round_failed",
                    error=describe_error(error),
                    error_at=error_location(error),
                    pause_seconds=pause,
                )
                stop_event.wait(pause)
                continue
            errors = 0
            if ran == 0:
                # Idle: wait. After any work, look again at once: the jobs it enqueued (the
                # deliveries of a fired SLA step) are due now and need not wait a poll.
                stop_event.wait(self._poll_interval)
        self._log.info("worker.stopped")

    # --- the steps ---------------------------------------------------------------------------

    def _unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory, bus=self._bus, clock=self._clock)

    def enqueue_periodic(self) -> int:
        """Enqueue the ticks whose slot this worker has not seen yet; returns how many."""
        ticks = due_ticks(self._schedule, now=self._clock.now(), last_slots=self._last_slots)
        if not ticks:
            return 0
        with self._unit_of_work() as uow:
            enqueue_ticks(uow, ticks)
            uow.commit()
        for job, slot in ticks:
            self._last_slots[job.name] = slot
        return len(ticks)

    def _anything_due(self) -> bool:
        assert self._read_session_factory is not None
        with self._read_session_factory() as session:
            return repository.anything_due(session, self._clock.now())

    def claim(self) -> list[ClaimedJob]:
        """Reclaim expired leases, then lease up to ``batch`` due jobs to this worker."""
        now = self._clock.now()
        with self._unit_of_work() as uow:
            reclaimed = repository.reclaim_expired_leases(uow.session, now)
            jobs = repository.claim(
                uow.session,
                now=now,
                worker_id=self.worker_id,
                lease_until=now + self._lease,
                limit=self._batch,
            )
            uow.commit()
        for lease in reclaimed:
            self._log.warning(
                "job.lease_expired",
                job_id=lease.id,
                job_name=lease.name,
                lost_worker=lease.locked_by,
                status=lease.status.value,
            )
        return jobs

    def execute(self, job: ClaimedJob) -> bool:
        """Run one claimed job; True when it succeeded and its work committed."""
        job_log = self._log.bind(job_id=job.id, job_name=job.name, attempt=job.attempts)
        started = time.perf_counter()
        try:
            handler = self._registry.handler_for(job.name)
            if isinstance(handler, ExternalEffect):
                done = self._run_effect(job, handler, started)
            else:
                with self._unit_of_work() as uow:
                    handler(uow, job.payload)
                    done = self._finish(uow, job, None, started)
        except Exception as error:
            self._record_failure(job, error, duration_ms=_since(started))
            return False
        if done:
            job_log.info("job.succeeded", duration_ms=_since(started))
        return done

    def _run_effect(
        self, job: ClaimedJob, effect: ExternalEffect[Any, Any], started: float
    ) -> bool:
        """The three steps of an :class:`ExternalEffect`: commit the intent (under a renewed
        lease), act with no transaction open, commit the outcome with the job's fate."""
        with self._unit_of_work() as uow:
            plan = effect.prepare(uow, job.payload)
            if plan is None:
                return self._finish(uow, job, None, started)
            renewed = repository.renew_lease(
                uow.session,
                job,
                worker_id=self.worker_id,
                until=self._clock.now() + self._lease,
            )
            if not renewed:
                return self._lease_lost(uow, job, started)
            uow.commit()
        outcome = effect.perform(plan)
        with self._unit_of_work() as uow:
            failure = effect.finish(uow, plan, outcome)
            return self._finish(uow, job, failure, started)

    def _finish(
        self, uow: UnitOfWork, job: ClaimedJob, failure: Exception | None, started: float
    ) -> bool:
        """Commit the work in ``uow`` with the job's success, or (``failure``) with its failed
        attempt; nothing when the lease was lost. True when the job succeeded."""
        now = self._clock.now()
        retry_at: datetime | None = None
        if failure is None:
            held = repository.mark_succeeded(uow.session, job, worker_id=self.worker_id, now=now)
        else:
            retry_at = self._retry_at(job, now)
            held = repository.record_failure(
                uow.session,
                job,
                worker_id=self.worker_id,
                error=describe_error(failure),
                retry_at=retry_at,
                now=now,
            )
        if not held:
            return self._lease_lost(uow, job, started)
        uow.commit()
        if failure is not None:
            self._log_failure(job, failure, retry_at, duration_ms=_since(started))
        return failure is None

    def _lease_lost(self, uow: UnitOfWork, job: ClaimedJob, started: float) -> bool:
        uow.rollback()
        self._log.warning(
            "job.lease_lost",
            job_id=job.id,
            job_name=job.name,
            attempt=job.attempts,
            duration_ms=_since(started),
        )
        return False

    def _retry_at(self, job: ClaimedJob, now: datetime) -> datetime | None:
        """When a failed attempt runs again; ``None``: it was the last, the job is dead."""
        if job.is_last_attempt:
            return None
        return now + self._backoff.delay(job.attempts, self._random_fraction())

    def _record_failure(self, job: ClaimedJob, error: Exception, *, duration_ms: int) -> None:
        now = self._clock.now()
        retry_at = self._retry_at(job, now)
        try:
            with self._unit_of_work() as uow:
                recorded = repository.record_failure(
                    uow.session,
                    job,
                    worker_id=self.worker_id,
                    error=describe_error(error),
                    retry_at=retry_at,
                    now=now,
                )
                uow.commit()
        except Exception as recording_error:
            # The lease expires and another round reclaims the job: nothing is lost.
            self._failure_log(job, error, duration_ms).error(
                "job.failure_not_recorded", recording_error=describe_error(recording_error)
            )
            return
        if not recorded:
            # Its lease expired and another worker reclaimed it, or its work had committed and
            # only an after-commit reaction raised.
            self._failure_log(job, error, duration_ms).warning(
                "job.failure_not_recorded", reason="job no longer held by this worker"
            )
            return
        self._log_failure(job, error, retry_at, duration_ms=duration_ms)

    def _failure_log(self, job: ClaimedJob, error: Exception, duration_ms: int) -> Any:
        # No tracebacks in these logs (see error_location): error and error_at say enough.
        return self._log.bind(
            job_id=job.id,
            job_name=job.name,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            duration_ms=duration_ms,
            error=describe_error(error),
            error_at=error_location(error),
        )

    def _log_failure(
        self, job: ClaimedJob, error: Exception, retry_at: datetime | None, *, duration_ms: int
    ) -> None:
        job_log = self._failure_log(job, error, duration_ms)
        if retry_at is None:
            job_log.error("job.dead")
        else:
            job_log.warning("job.failed", retry_at=retry_at.isoformat())

    def _release(self, jobs: Sequence[ClaimedJob]) -> None:
        with self._unit_of_work() as uow:
            released = repository.release(uow.session, jobs, worker_id=self.worker_id)
            uow.commit()
        self._log.info("worker.released_unstarted_jobs", count=released)


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


class WorkerThread:
    """A worker looping in a daemon thread (the one inside ``closeloop serve``, or one of the
    ``--concurrency`` threads of ``closeloop worker``)."""

    def __init__(self, worker: Worker, *, name: str = "closeloop-worker") -> None:
        self.worker = worker
        self.stop_event = threading.Event()
        self._thread = threading.Thread(
            target=worker.run_forever, args=(self.stop_event,), name=name, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask the loop to stop after the current job; True when the thread has ended."""
        self.stop_event.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()
