"""Background jobs of the job queue itself ("jobs.<verb>")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.jobs import repository
from closeloop.jobs.queue import enqueue
from closeloop.jobs.registry import Handler
from closeloop.kit.logging import get_logger

SUCCEEDED_RETENTION = timedelta(days=7)
PURGE_BATCH = 1000
log = get_logger(__name__)


def purge_finished(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Delete jobs that succeeded more than 7 days ago, one bounded batch per transaction: a
    full batch enqueues the next one, so a large backlog never becomes one long transaction.
    Dead and failed jobs stay until an administrator has seen them."""
    cutoff = uow.clock.now() - SUCCEEDED_RETENTION
    deleted = repository.delete_succeeded_before(uow.session, cutoff, limit=PURGE_BATCH)
    if deleted == PURGE_BATCH:
        enqueue(uow, "jobs.purge_finished", {"continued": True})
    log.info("jobs.purged", deleted=deleted, more=deleted == PURGE_BATCH)


TASKS: Mapping[str, Handler] = {"jobs.purge_finished": purge_finished}
