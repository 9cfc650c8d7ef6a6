"""The ``jobs`` table: the transactional outbox and the work queue in one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class Job(Base):
    """One unit of background work, written in the transaction of the change that causes it."""

    __tablename__ = "jobs"

    # Never reused (AUTOINCREMENT on SQLite, an identity on PostgreSQL): an administrator's
    # "retry job 42" cannot hit another job after job 42 was purged.
    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    # When the job may run next: its due time, then the time of its next retry.
    run_at: Mapped[datetime]
    # The lease: which worker runs the job and until when; an expired lease is reclaimed.
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        # One index serves every hot query, each of which names the status first:
        # claiming (status in queued/failed, run_at <= now), reclaiming leases (status running:
        # a few rows), and purging (status succeeded, run_at < cutoff, since run_at <= finished_at).
        Index("ix_jobs_status_run_at", "status", "run_at"),
        CheckConstraint(
            "status in ('queued', 'running', 'succeeded', 'failed', 'dead')", name="status"
        ),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        {"sqlite_autoincrement": True},
    )
