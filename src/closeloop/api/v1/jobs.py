"""The job queue over JSON, for administrators: dead letters, retries, counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from closeloop.api.deps import AdminPrincipal, Uow
from closeloop.jobs import service as jobs
from closeloop.jobs.domain import JobStatus
from closeloop.jobs.schemas import JobPage, JobRead, JobStats

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=JobPage)
def list_jobs(
    uow: Uow,
    _admin: AdminPrincipal,
    status: JobStatus | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobPage:
    """Jobs newest first; ``status=dead`` lists the dead letters. Payloads are not shown."""
    found = jobs.list_jobs(uow, status=status, before_id=before_id, limit=limit)
    next_before_id = found[-1].id if len(found) == limit else None
    return JobPage(items=[JobRead.of(job) for job in found], next_before_id=next_before_id)


@router.get("/stats", response_model=JobStats)
def job_stats(uow: Uow, _admin: AdminPrincipal) -> JobStats:
    """How many jobs are queued, running, succeeded, failed (waiting to retry) and dead."""
    return JobStats.of(jobs.count_by_status(uow))


@router.post("/{job_id}/retry", response_model=JobRead)
def retry_job(job_id: int, uow: Uow, _admin: AdminPrincipal) -> JobRead:
    """Send a dead or failed job back to the queue to run now; other statuses get 409."""
    job = jobs.retry_job(uow, job_id=job_id)
    uow.commit()
    return JobRead.of(job)
