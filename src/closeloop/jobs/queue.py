"""``enqueue``: a job is a row written in the caller's transaction (a transactional outbox).

If the caller's change commits, the job exists and a worker will run it; if the change rolls
back, the job never existed. Nothing is handed to a broker before the commit, so nothing
acknowledged can be lost and nothing is run for a change that did not happen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypeAlias

from closeloop.db.session import UnitOfWork
from closeloop.jobs import repository
from closeloop.jobs.domain import MAX_IDEMPOTENCY_KEY_LENGTH, JobStatus, is_task_name
from closeloop.kit.clock import ensure_utc

JSON: TypeAlias = "str | int | float | bool | list[JSON] | dict[str, JSON] | None"
DEFAULT_MAX_ATTEMPTS = 8


def enqueue(
    uow: UnitOfWork,
    name: str,
    payload: Mapping[str, JSON],
    *,
    run_at: datetime | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Ask for ``name`` (``"<feature>.<verb>"``) to run with ``payload`` at ``run_at`` (now).

    The job is written in ``uow``'s transaction and commits or rolls back with it. With an
    ``idempotency_key`` the same key enqueued twice (in one transaction or in two, even
    concurrently) is one job: the second call writes nothing. Payloads hold ids and small
    values, never secrets: they are stored as JSON until the job is purged.
    """
    if uow.read_only:
        raise RuntimeError("enqueue needs a writing unit of work, not a read-only one")
    if not is_task_name(name):
        raise ValueError(f"task names look like 'feature.verb', not {name!r}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValueError(f"an idempotency key has 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
    # A round trip through JSON refuses what the column could not store (dates, NaN, objects)
    # here, at the caller, instead of at commit time, and copies the caller's mutable values.
    document = json.loads(json.dumps(dict(payload), allow_nan=False))
    now = uow.clock.now()
    repository.insert_job(
        uow.session,
        {
            "name": name,
            "payload": document,
            "status": JobStatus.queued.value,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": now if run_at is None else ensure_utc(run_at),
            "idempotency_key": idempotency_key,
            "created_at": now,
        },
    )
