"""Small tools shared by the job queue tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from closeloop.db.session import UnitOfWork
from closeloop.jobs import JobRegistry
from closeloop.jobs.models import Job


def registry_of(**handlers: Callable[[UnitOfWork, Mapping[str, Any]], None]) -> JobRegistry:
    """A registry of ``test.<name>`` tasks."""
    registry = JobRegistry()
    for name, handler in handlers.items():
        registry.register(f"test.{name}", handler)
    return registry


def count_jobs(uow: UnitOfWork, **where: Any) -> int:
    statement = select(func.count()).select_from(Job)
    for column, value in where.items():
        statement = statement.where(getattr(Job, column) == value)
    return int(uow.session.scalar(statement) or 0)


def only_job(uow: UnitOfWork, name: str) -> Job:
    uow.session.expire_all()
    jobs = list(uow.session.scalars(select(Job).where(Job.name == name)))
    assert len(jobs) == 1, [job.name for job in jobs]
    return jobs[0]
