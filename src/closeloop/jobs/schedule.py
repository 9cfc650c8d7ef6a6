"""The single list of periodic jobs, and how due ticks become jobs.

Time is cut into slots of ``every`` counted from the Unix epoch (UTC): with ``every`` = 1 minute
the slots start at :00 of each minute, with 1 hour at the top of each hour. When a scheduler
sees a new slot it enqueues the job with the idempotency key ``"<name>@<slot start ISO>"``, so
any number of schedulers (every ``closeloop worker`` and every embedded worker runs one) enqueue
each tick exactly once. A slot missed while nothing ran is not caught up: the next one runs.

Add a periodic job by appending one line to :data:`SCHEDULE` (its task in ``<feature>/tasks.py``,
registered in ``closeloop.wiring.build_job_registry``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import is_task_name
from closeloop.jobs.queue import enqueue

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every: timedelta
    # A periodic job is replaced by its next tick, so it gives up sooner than a one-off job.
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if not is_task_name(self.name):
            raise ValueError(f"task names look like 'feature.verb', not {self.name!r}")
        if self.every < timedelta(seconds=1):
            raise ValueError(f"{self.name} runs every {self.every}: at least one second")


SCHEDULE: tuple[PeriodicJob, ...] = (
    PeriodicJob("jobs.purge_finished", timedelta(hours=1)),
    PeriodicJob("idempotency.purge_expired", timedelta(hours=1)),
    PeriodicJob("accounts.purge_expired", timedelta(hours=1)),
    PeriodicJob("sla.scan_due", timedelta(minutes=1)),
    PeriodicJob("channels.email.poll", timedelta(minutes=1)),
    PeriodicJob("routing.retrain", timedelta(weeks=1)),
)


def slot_start(every: timedelta, now: datetime) -> datetime:
    """The start of the slot of length ``every`` that contains ``now``."""
    return EPOCH + ((now - EPOCH) // every) * every


def tick_key(job: PeriodicJob, slot: datetime) -> str:
    return f"{job.name}@{slot.astimezone(UTC).isoformat()}"


def due_ticks(
    schedule: Sequence[PeriodicJob], *, now: datetime, last_slots: Mapping[str, datetime]
) -> list[tuple[PeriodicJob, datetime]]:
    """The (job, slot start) pairs whose slot this scheduler has not enqueued yet; ``last_slots``
    is its memory of the last slot enqueued per job name."""
    ticks = [(job, slot_start(job.every, now)) for job in schedule]
    return [(job, slot) for job, slot in ticks if last_slots.get(job.name) != slot]


def enqueue_ticks(uow: UnitOfWork, ticks: Sequence[tuple[PeriodicJob, datetime]]) -> None:
    """Enqueue each tick once across every scheduler: the idempotency key absorbs duplicates."""
    for job, slot in ticks:
        enqueue(
            uow,
            job.name,
            {"slot": slot.isoformat()},
            run_at=slot,
            idempotency_key=tick_key(job, slot),
            max_attempts=job.max_attempts,
        )
