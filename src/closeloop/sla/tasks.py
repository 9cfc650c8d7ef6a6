"""Background jobs of the SLA feature ("sla.<verb>").

- ``sla.scan_due`` (every minute, ``jobs/schedule.py``): recompute the clocks whose next event
  (a warning, the breach, a ladder step) has come and fire the steps due. A full batch asks for
  another scan at once.
- ``sla.recompute`` (after a calendar or policy change: the open tickets; after seeding the
  defaults: every ticket, so the history is measured too): one batch per job, each job
  enqueueing the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.jobs.queue import enqueue
from closeloop.jobs.registry import Handler
from closeloop.kit.logging import get_logger
from closeloop.sla.service import clocks, escalation

SCAN_TASK = "sla.scan_due"
RECOMPUTE_TASK = clocks.RECOMPUTE_TASK
log = get_logger(__name__)


def scan_due(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    result = escalation.scan_due(uow)
    if result.more:
        enqueue(uow, SCAN_TASK, {"continued": True})
    if result.checked or result.failed:
        log.info(
            "sla.scanned",
            checked=result.checked,
            fired=result.fired,
            failed=len(result.failed),
            more=result.more,
        )


def recompute(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    include_finished = bool(payload.get("include_finished", False))
    last = clocks.recompute_tickets(
        uow, after_id=int(payload.get("after_id") or 0), include_finished=include_finished
    )
    if last is not None:
        enqueue(uow, RECOMPUTE_TASK, {"after_id": last, "include_finished": include_finished})


TASKS: Mapping[str, Handler] = {SCAN_TASK: scan_due, RECOMPUTE_TASK: recompute}
