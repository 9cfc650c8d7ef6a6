"""Every query on the ``jobs`` table.

Claiming is race-free on both databases. PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks
rows no other worker holds, then one ``UPDATE`` takes the lease, in one transaction. SQLite: one
``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`` inside the ``BEGIN IMMEDIATE`` transaction
every writing session starts with (``closeloop.db.session``), so claims are serialised.

Every state change after the claim is guarded by ``(status running, locked_by, attempts)``: a
worker whose lease expired and was reclaimed cannot overwrite the newer attempt's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from closeloop.jobs.domain import WAITING_STATUSES, ClaimedJob, JobStatus
from closeloop.jobs.models import Job

LEASE_EXPIRED_ERROR = "LeaseExpired: the worker stopped or lost its lease before finishing"
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True, slots=True)
class ReclaimedLease:
    id: int
    name: str
    locked_by: str | None
    status: JobStatus


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_job(session: Session, values: Mapping[str, Any]) -> bool:
    """Insert one job; with an ``idempotency_key`` already present, insert nothing.

    Returns whether a row was written. The conflict is resolved by the database
    (``ON CONFLICT DO NOTHING``) so a concurrent duplicate neither fails nor aborts the caller's
    transaction; other dialects fall back to a savepoint.
    """
    if values.get("idempotency_key") is None:
        session.execute(insert(Job).values(**values))
        return True
    name = dialect_name(session)
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        statement = (
            dialect_insert(Job)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Job.idempotency_key])
        )
        return _rowcount(session.execute(statement)) == 1
    try:  # pragma: no cover - neither supported database takes this path
        with session.begin_nested():
            session.execute(insert(Job).values(**values))
    except IntegrityError:  # pragma: no cover
        return False
    return True  # pragma: no cover


def _due(now: datetime) -> Any:
    waiting = and_(Job.status.in_([s.value for s in WAITING_STATUSES]), Job.run_at <= now)
    expired = and_(Job.status == JobStatus.running.value, Job.locked_until < now)
    return or_(waiting, expired)


def anything_due(session: Session, now: datetime) -> bool:
    """A cheap read: is there a due job or an expired lease? (Lets an idle SQLite worker poll
    without taking the write lock.)"""
    return session.scalar(select(Job.id).where(_due(now)).limit(1)) is not None


def reclaim_expired_leases(session: Session, now: datetime) -> list[ReclaimedLease]:
    """Jobs whose worker vanished (killed, frozen, lost its database connection) go back to the
    queue as a failed attempt, or to the dead letters when that was their last attempt."""
    expired = session.execute(
        select(Job.id, Job.name, Job.locked_by, Job.attempts, Job.max_attempts)
        .where(Job.status == JobStatus.running.value, Job.locked_until < now)
        .order_by(Job.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not expired:
        return []
    is_last = Job.attempts >= Job.max_attempts
    session.execute(
        update(Job)
        .where(Job.id.in_([row.id for row in expired]), Job.status == JobStatus.running.value)
        .values(
            status=case((is_last, JobStatus.dead.value), else_=JobStatus.failed.value),
            run_at=case((is_last, Job.run_at), else_=now),
            finished_at=case((is_last, now), else_=None),
            locked_by=None,
            locked_until=None,
            last_error=LEASE_EXPIRED_ERROR,
        )
        .execution_options(**_NO_SYNC)
    )
    return [
        ReclaimedLease(
            id=row.id,
            name=row.name,
            locked_by=row.locked_by,
            status=JobStatus.dead if row.attempts >= row.max_attempts else JobStatus.failed,
        )
        for row in expired
    ]


def claim(
    session: Session, *, now: datetime, worker_id: str, lease_until: datetime, limit: int
) -> list[ClaimedJob]:
    """Take the lease of up to ``limit`` due jobs, oldest due first."""
    due = (
        select(Job.id)
        .where(Job.status.in_([s.value for s in WAITING_STATUSES]), Job.run_at <= now)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen: Any = Job.id.in_(ids)
    else:
        chosen = Job.id.in_(due.scalar_subquery())
    rows = session.execute(
        update(Job)
        .where(chosen)
        .values(
            status=JobStatus.running.value,
            attempts=Job.attempts + 1,
            locked_by=worker_id,
            locked_until=lease_until,
        )
        .returning(Job.id, Job.name, Job.payload, Job.attempts, Job.max_attempts, Job.run_at)
        .execution_options(**_NO_SYNC)
    ).all()
    claimed = [
        ClaimedJob(
            id=row.id,
            name=row.name,
            payload=row.payload,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            run_at=row.run_at,
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda job: (job.run_at, job.id))


def _held(job: ClaimedJob, worker_id: str) -> Any:
    return and_(
        Job.id == job.id,
        Job.status == JobStatus.running.value,
        Job.locked_by == worker_id,
        Job.attempts == job.attempts,
    )


def mark_succeeded(session: Session, job: ClaimedJob, *, worker_id: str, now: datetime) -> bool:
    """In the handler's own transaction: the job's effects and its success commit together."""
    result = session.execute(
        update(Job)
        .where(_held(job, worker_id))
        .values(
            status=JobStatus.succeeded.value, finished_at=now, locked_by=None, locked_until=None
        )
        .execution_options(**_NO_SYNC)
    )
    return _rowcount(result) == 1


def renew_lease(session: Session, job: ClaimedJob, *, worker_id: str, until: datetime) -> bool:
    """Extend the lease of a job this worker still holds (before a slow external effect);
    False when it no longer holds it."""
    result = session.execute(
        update(Job)
        .where(_held(job, worker_id))
        .values(locked_until=until)
        .execution_options(**_NO_SYNC)
    )
    return _rowcount(result) == 1


def record_failure(
    session: Session,
    job: ClaimedJob,
    *,
    worker_id: str,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> bool:
    """A failed attempt: retry at ``retry_at``, or (``None``) move to the dead letters."""
    values: dict[str, Any] = {"last_error": error, "locked_by": None, "locked_until": None}
    if retry_at is None:
        values.update(status=JobStatus.dead.value, finished_at=now)
    else:
        values.update(status=JobStatus.failed.value, run_at=retry_at)
    result = session.execute(
        update(Job).where(_held(job, worker_id)).values(**values).execution_options(**_NO_SYNC)
    )
    return _rowcount(result) == 1


def release(session: Session, jobs: Sequence[ClaimedJob], *, worker_id: str) -> int:
    """Give back claimed jobs that were not started (the worker is stopping): the attempt is
    not counted and the jobs are due again at once."""
    if not jobs:
        return 0
    result = session.execute(
        update(Job)
        .where(
            Job.id.in_([job.id for job in jobs]),
            Job.status == JobStatus.running.value,
            Job.locked_by == worker_id,
        )
        .values(
            status=case((Job.attempts <= 1, JobStatus.queued.value), else_=JobStatus.failed.value),
            attempts=Job.attempts - 1,
            locked_by=None,
            locked_until=None,
        )
        .execution_options(**_NO_SYNC)
    )
    return _rowcount(result)


def find(session: Session, job_id: int, *, for_update: bool = False) -> Job | None:
    statement = select(Job).where(Job.id == job_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def list_jobs(
    session: Session, *, status: JobStatus | None, before_id: int | None, limit: int
) -> list[Job]:
    """Newest first; ``before_id`` continues after the last id of the previous page."""
    statement = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(Job.status == status.value)
    if before_id is not None:
        statement = statement.where(Job.id < before_id)
    return list(session.scalars(statement))


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {str(status): int(count) for status, count in rows}


def delete_succeeded_before(session: Session, cutoff: datetime, *, limit: int) -> int:
    """Delete at most ``limit`` jobs that succeeded before ``cutoff``, oldest first.

    ``run_at <= finished_at`` always, so ``run_at < cutoff`` lets the (status, run_at) index
    find the candidates; ``finished_at`` then decides.
    """
    oldest = (
        select(Job.id)
        .where(
            Job.status == JobStatus.succeeded.value,
            Job.run_at < cutoff,
            Job.finished_at < cutoff,
        )
        .order_by(Job.run_at)
        .limit(limit)
    )
    result = session.execute(
        delete(Job).where(Job.id.in_(oldest.scalar_subquery())).execution_options(**_NO_SYNC)
    )
    return _rowcount(result)
