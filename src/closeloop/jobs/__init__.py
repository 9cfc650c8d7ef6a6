"""Background jobs: a transactional outbox in the ``jobs`` table, claimed by workers.

Public surface for features::

    from closeloop.jobs import enqueue
    enqueue(uow, "sla.escalate", {"ticket_id": 42}, run_at=due, idempotency_key="...")

Handlers live in ``<feature>/tasks.py`` (signature :data:`Handler`) and are registered in
``closeloop.wiring.build_job_registry``; periodic jobs are one line in ``jobs/schedule.py``.
"""

from closeloop.jobs.domain import JobStatus
from closeloop.jobs.queue import JSON, enqueue
from closeloop.jobs.registry import ExternalEffect, Handler, JobRegistry
from closeloop.jobs.schedule import PeriodicJob

__all__ = [
    "JSON",
    "ExternalEffect",
    "Handler",
    "JobRegistry",
    "JobStatus",
    "PeriodicJob",
    "enqueue",
]
