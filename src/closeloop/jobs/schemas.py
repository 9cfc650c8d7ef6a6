"""Pydantic shapes of jobs on the wire (administrators' view; payloads are not shown)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from closeloop.jobs.domain import JobStatus
from closeloop.jobs.models import Job


class JobRead(BaseModel):
    id: int
    name: str
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, job: Job) -> JobRead:
        return cls(
            id=job.id,
            name=job.name,
            status=JobStatus(job.status),
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            run_at=job.run_at,
            created_at=job.created_at,
            finished_at=job.finished_at,
            locked_by=job.locked_by,
            locked_until=job.locked_until,
            last_error=job.last_error,
        )


class JobPage(BaseModel):
    items: list[JobRead]
    next_before_id: int | None


class JobStats(BaseModel):
    """How many jobs are in each status."""

    queued: int
    running: int
    succeeded: int
    failed: int
    dead: int

    @classmethod
    def of(cls, counts: dict[JobStatus, int]) -> JobStats:
        return cls(**{status.value: count for status, count in counts.items()})
