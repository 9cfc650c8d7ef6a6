"""The scan: find clocks whose next event has come, recompute them, fire the ladder steps due.

Two callers share one path per ticket: the ``sla.check_ticket`` timer, enqueued for each
clock's next check instant whenever it changes (``clocks.schedule_check``), which acts within
the worker's polling interval of the instant; and the minute scan, the safety net for timers
that were lost or never enqueued (clocks written before timers existed, a dead job).

Each step fires exactly once per ticket, target and next-response cycle: the firing row's
unique key is the guard. The insert does nothing when the key exists, so a second scan (a
retried job, another worker racing this one) skips the step instead of acting twice. The
ticket row is locked first (PostgreSQL), so a scan and a person's change to the same ticket
queue up instead of interleaving; several scans lock tickets in id order and never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger
from closeloop.sla import repository
from closeloop.sla.domain import (
    EscalationAction,
    FiringOutcome,
    LadderStep,
    is_expired,
    raised_priority,
)
from closeloop.sla.events import EscalationStepFired
from closeloop.sla.service.clocks import (
    ClockPlan,
    SlaTicket,
    mark_failed,
    recompute_ticket,
    record_on_ticket,
    schedule_check,
)
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Priority
from closeloop.tickets.schemas import TicketUpdate

VIA_SCAN = "sla:scan"
VIA_ESCALATION = "sla:escalation"
SCAN_BATCH = 200
RETRY_DELAY = timedelta(minutes=5)
_MANAGERS_LIMIT = 50
log = get_logger(__name__)

NOTIFICATION_WARNING = "sla.warning"
NOTIFICATION_BREACHED = "sla.breached"
NOTIFICATION_ESCALATED = "sla.escalated"


@dataclass
class ScanResult:
    checked: int = 0
    fired: int = 0
    failed: list[int] = field(default_factory=list)
    more: bool = False


def scan_due(uow: UnitOfWork, *, limit: int = SCAN_BATCH) -> ScanResult:
    """Check every ticket with a clock whose next event is due (at most ``limit`` clocks).

    Each ticket is handled in a savepoint: one that fails is logged, postponed by
    ``RETRY_DELAY`` and left alone, and the others go on.
    """
    now = uow.clock.now()
    due, full = repository.due_ticket_ids(uow.session, now, limit=limit)
    result = ScanResult(more=full)
    for ticket_id in sorted(due):
        _check_due_ticket(uow, ticket_id, now, result)
    return result


def check_due_ticket(uow: UnitOfWork, *, ticket_id: int) -> ScanResult:
    """What the scan does, for one ticket (the ``sla.check_ticket`` timer): nothing when none of
    its clocks is due any more (a stale timer: a reply met the target, a pause moved it)."""
    now = uow.clock.now()
    result = ScanResult()
    if repository.has_due_check(uow.session, ticket_id, now):
        _check_due_ticket(uow, ticket_id, now, result)
    return result


def _check_due_ticket(uow: UnitOfWork, ticket_id: int, now: datetime, result: ScanResult) -> None:
    """Check one due ticket in a savepoint and count it in ``result``; the scan and the
    per-ticket timer share this, so both fire each step through the same guard."""
    try:
        with uow.session.begin_nested():
            fired = check_ticket(uow, ticket_id=ticket_id)
    except Exception:
        # The savepoint's rows are gone; so that nothing builds on them (the audit chain
        # caches its head per ticket), this unit of work leaves the ticket alone.
        log.exception("sla.check_failed", ticket_id=ticket_id)
        mark_failed(uow, ticket_id)
        _postpone(uow, ticket_id, now)
        result.failed.append(ticket_id)
        return
    if _postpone(uow, ticket_id, now):
        # A check always moves the next one past now; one that did not would be picked
        # again at once, so it waits like a failure instead of spinning the scan.
        log.warning("sla.check_did_not_advance", ticket_id=ticket_id)
    result.checked += 1
    result.fired += len(fired)
    # Published only once the ticket's savepoint is released: never for a rolled-back step.
    for event in fired:
        uow.publish(event)


def _postpone(uow: UnitOfWork, ticket_id: int, now: datetime) -> int:
    """Move the ticket's checks still due to ``now + RETRY_DELAY``, with a timer then."""
    until = now + RETRY_DELAY
    moved = repository.postpone_checks(uow.session, ticket_id, due_by=now, until=until)
    if moved:
        schedule_check(uow, ticket_id=ticket_id, at=until)
    return moved


def check_ticket(uow: UnitOfWork, *, ticket_id: int) -> list[EscalationStepFired]:
    """Recompute the ticket's clocks and fire the ladder steps due; the events to publish."""
    recomputed = recompute_ticket(uow, ticket_id=ticket_id, via=VIA_SCAN, lock=True)
    ticket = tickets.ticket_for_sla(uow, ticket_id=ticket_id)
    now = uow.clock.now()
    events: list[EscalationStepFired] = []
    fired_any = False
    for plan in recomputed.plans:
        if plan.evaluation is None or plan.setup is None:
            continue
        ladder = {s.position: s for s in plan.setup.ladders.get(plan.kind, ())}
        for position in plan.evaluation.due_positions:
            fired = _fire(uow, ticket, plan, ladder[position], now)
            if fired is not None:
                fired_any = True
                if fired.agent_ids:
                    events.append(fired)
    if fired_any:
        recompute_ticket(uow, ticket_id=ticket_id, via=VIA_SCAN)
    return events


def _fire(
    uow: UnitOfWork, ticket: SlaTicket, plan: ClockPlan, step: LadderStep, now: datetime
) -> EscalationStepFired | None:
    """Record the step (or find it recorded already: then ``None``) and carry it out."""
    assert plan.evaluation is not None
    instant = plan.evaluation.step_instants[step.position]
    action = EscalationAction(step.step.action)
    recipients: tuple[int, ...] = ()
    perform: Callable[[], None] | None = None
    if is_expired(instant, now):
        outcome = FiringOutcome.expired
    else:
        recipients, perform = _prepare(uow, ticket, action, step)
        acts = bool(recipients) or perform is not None
        outcome = FiringOutcome.done if acts else FiringOutcome.skipped
    inserted = repository.insert_firing(
        uow.session,
        {
            "ticket_id": ticket.id,
            "kind": plan.kind.value,
            "cycle": plan.span.cycle,
            "step_position": step.position,
            "policy_id": plan.policy_id,
            "action": action.value,
            "outcome": outcome.value,
            "fired_at": now,
        },
    )
    if not inserted:
        return None
    due_at = plan.evaluation.state.due_at
    record_on_ticket(
        uow,
        ticket.id,
        "sla.escalated",
        Change(
            plan.kind.value,
            None,
            {
                "cycle": plan.span.cycle,
                "step": step.position,
                "action": action.value,
                "outcome": outcome.value,
                "due_at": due_at.isoformat(),
                "step_due_at": instant.isoformat(),
            },
        ),
        VIA_ESCALATION,
    )
    if perform is not None and outcome is FiringOutcome.done:
        perform()
    return EscalationStepFired(
        ticket_id=ticket.id,
        kind=plan.kind.value,
        cycle=plan.span.cycle,
        position=step.position,
        action=action.value,
        notification=_notification(step),
        agent_ids=recipients if outcome is FiringOutcome.done else (),
        due_at=due_at,
        occurrence=f"sla:ticket:{ticket.id}:{plan.kind.value}:{plan.span.cycle}:{step.position}",
    )


def _notification(step: LadderStep) -> str:
    if step.step.at_fraction is not None:
        return NOTIFICATION_WARNING
    if not step.step.after_breach:
        return NOTIFICATION_BREACHED
    return NOTIFICATION_ESCALATED


def _prepare(
    uow: UnitOfWork, ticket: SlaTicket, action: EscalationAction, step: LadderStep
) -> tuple[tuple[int, ...], Callable[[], None] | None]:
    """Who to tell, and what to change, for one step (nothing: the step is skipped)."""
    if action is EscalationAction.notify_assignee:
        return ((ticket.assignee_id,) if ticket.assignee_id else ()), None
    if action is EscalationAction.notify_team_lead:
        if ticket.team_id is None:
            return (), None
        lead = accounts.get_team(uow, ticket.team_id).lead_id
        return ((lead,) if lead else ()), None
    if action is EscalationAction.notify_manager:
        return _managers(uow), None
    if action is EscalationAction.raise_priority:
        higher = raised_priority(ticket.priority)
        if higher is None:
            return (), None
        return (), lambda: _raise_priority(uow, ticket.id, higher)
    if step.team_id is None or step.team_id == ticket.team_id:
        return (), None
    team_id = step.team_id
    return (), lambda: _reassign(uow, ticket.id, team_id)


def _managers(uow: UnitOfWork) -> tuple[int, ...]:
    page = management.list_agents(
        uow, actor=SYSTEM, role=Role.supervisor, is_active=True, limit=_MANAGERS_LIMIT
    )
    return tuple(agent.id for agent in page.items)


def _raise_priority(uow: UnitOfWork, ticket_id: int, priority: str) -> None:
    current = tickets.ticket_for_sla(uow, ticket_id=ticket_id)
    tickets.update_fields(
        uow,
        ticket_id=ticket_id,
        data=TicketUpdate(priority=Priority(priority)),
        expected_version=current.version,
        actor=SYSTEM,
        via=VIA_ESCALATION,
    )


def _reassign(uow: UnitOfWork, ticket_id: int, team_id: int) -> None:
    current = tickets.ticket_for_sla(uow, ticket_id=ticket_id)
    tickets.assign(
        uow,
        ticket_id=ticket_id,
        team_id=team_id,
        assignee_id=None,
        expected_version=current.version,
        actor=SYSTEM,
        via=VIA_ESCALATION,
    )
