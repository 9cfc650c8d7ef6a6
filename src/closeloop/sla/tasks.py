"""Background jobs of the SLA feature ("sla.<verb>").

- ``sla.check_ticket`` (a timer, enqueued with ``run_at`` = a clock's next check instant each
  time that instant changes): what the scan does, for that one ticket. A stale timer (the
  target was met, a pause moved the instant) finds nothing due and ends.
- ``sla.scan_due`` (every minute, ``jobs/schedule.py``): the safety net. Recompute the clocks
  whose next event (a warning, the breach, a ladder step) has come and fire the steps due. A
  full batch asks for another scan at once.
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
CHECK_TASK = clocks.CHECK_TASK
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


def check_ticket(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    ticket_id = int(payload["ticket_id"])
    result = escalation.check_due_ticket(uow, ticket_id=ticket_id)
    if result.checked or result.failed:
        log.info("sla.checked", ticket_id=ticket_id, fired=result.fired, failed=bool(result.failed))


def recompute(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    include_finished = bool(payload.get("include_finished", False))
    last = clocks.recompute_tickets(
        uow, after_id=int(payload.get("after_id") or 0), include_finished=include_finished
    )
    if last is not None:
        enqueue(uow, RECOMPUTE_TASK, {"after_id": last, "include_finished": include_finished})


TASKS: Mapping[str, Handler] = {
    SCAN_TASK: scan_due,
    CHECK_TASK: check_ticket,
    RECOMPUTE_TASK: recompute,
}
