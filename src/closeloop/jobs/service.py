"""Administration of the queue: dead letters, retries, counts.

Who may call these is decided by the delivery layer (administrators only, ``api/v1/jobs.py``):
the queue sits below the accounts feature and knows nothing about principals.
"""

from __future__ import annotations

from closeloop.db.session import UnitOfWork
from closeloop.jobs import repository
from closeloop.jobs.domain import RETRYABLE_STATUSES, JobStatus
from closeloop.jobs.errors import JobNotFound, JobNotRetryable
from closeloop.jobs.models import Job
from closeloop.kit.logging import get_logger

DEFAULT_LIMIT = 50
log = get_logger(__name__)


def list_jobs(
    uow: UnitOfWork,
    *,
    status: JobStatus | None = None,
    before_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Job]:
    """Jobs newest first, optionally of one status (``dead``: the dead letters)."""
    return repository.list_jobs(uow.session, status=status, before_id=before_id, limit=limit)


def get_job(uow: UnitOfWork, *, job_id: int) -> Job:
    job = repository.find(uow.session, job_id)
    if job is None:
        raise JobNotFound(job_id=job_id)
    return job


def retry_job(uow: UnitOfWork, *, job_id: int) -> Job:
    """Send a dead (or failed, waiting) job back to the queue to run now, with a fresh count of
    attempts. The row is locked first, so a worker claiming it meanwhile wins cleanly."""
    job = repository.find(uow.session, job_id, for_update=True)
    if job is None:
        raise JobNotFound(job_id=job_id)
    if job.status not in RETRYABLE_STATUSES:
        raise JobNotRetryable(job_id=job_id, status=job.status)
    previous = job.status
    job.status = JobStatus.queued.value
    job.attempts = 0
    job.run_at = uow.clock.now()
    job.finished_at = None
    job.locked_by = None
    job.locked_until = None
    uow.session.flush()
    log.info("job.retry_requested", job_id=job.id, job_name=job.name, previous_status=previous)
    return job


def count_by_status(uow: UnitOfWork) -> dict[JobStatus, int]:
    """How many jobs are in each status (every status present, zero included)."""
    counts = repository.count_by_status(uow.session)
    return {status: counts.get(status.value, 0) for status in JobStatus}
