"""Ticket clocks: recomputed from the ticket's history on every relevant change, and shown.

:func:`recompute_ticket` is the one writer of ``ticket_sla_clocks`` and of the ticket's SLA
summary. It replays the ticket's audit trail (status changes and messages, with their instants)
against the policy that applies now, so it gives the same answer whenever it runs: inside the
unit of work of the change (``handlers``), from the scan, or from a bulk recompute.

A clock that is met keeps the policy and target it was measured against: changing the priority
of a ticket re-targets only the clocks still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, CustomerTier, Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.jobs.queue import enqueue
from closeloop.kit.clock import ensure_utc
from closeloop.sla import permissions, repository
from closeloop.sla.clock import Target, TargetKind, TargetState
from closeloop.sla.domain import (
    AuditFact,
    ClockSpan,
    EscalationAction,
    Evaluation,
    FiringOutcome,
    TicketHistory,
    clock_spans,
    evaluate,
    history_from_audit,
    summarise,
)
from closeloop.sla.models import EscalationFiring, TicketSlaClock
from closeloop.sla.policy import TicketFacts, choose_policy, targets_for
from closeloop.sla.schemas import ClockRead, FiringRead, TicketSlaRead
from closeloop.sla.service.rulebook import PolicySetup, Rulebook, rulebook
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import OPEN_STATUSES, TicketQuery

VIA_CLOCKS = "sla:clock"
RECOMPUTE_TASK = "sla.recompute"
CHECK_TASK = "sla.check_ticket"
CHECK_MAX_ATTEMPTS = 3
RECOMPUTE_BATCH = 200
TICKET_ENTITY = "ticket"
_DONE_KEY = "sla.recomputed"
_FAILED_KEY = "sla.failed_tickets"
_RECOMPUTE_REQUESTED = "sla.recompute_requested"
_TOUCHED_KEY = "sla.touched_tickets"


class SlaTicket(Protocol):
    """What the clocks read of a ticket."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def priority(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def requester_id(self) -> int: ...
    @property
    def company_id(self) -> int | None: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def merged_into_id(self) -> int | None: ...
    @property
    def sla_due_at(self) -> datetime | None: ...
    @property
    def sla_state(self) -> str | None: ...


@dataclass(frozen=True)
class ClockPlan:
    """One target of the ticket: either evaluated now, or a met clock kept as it is."""

    kind: TargetKind
    span: ClockSpan
    target: Target
    policy_id: int | None
    setup: PolicySetup | None = None
    evaluation: Evaluation | None = None  # None: kept (met before, nothing to re-measure)


@dataclass
class Recomputed:
    ticket_id: int
    plans: list[ClockPlan] = field(default_factory=list)
    rows: dict[TargetKind, TicketSlaClock] = field(default_factory=dict)


# --- reading the inputs -------------------------------------------------------------------


def ticket_facts(uow: UnitOfWork, ticket: SlaTicket) -> TicketFacts:
    customer = accounts.get_customer(uow, ticket.requester_id)
    tier = customer.tier
    if tier != CustomerTier.vip.value and ticket.company_id is not None:
        company = management.get_company(uow, company_id=ticket.company_id, actor=SYSTEM)
        if company.tier == CustomerTier.vip.value:
            tier = CustomerTier.vip.value
    return TicketFacts(
        priority=ticket.priority,
        type=ticket.type,
        channel=ticket.channel,
        customer_tier=tier,
        company_id=ticket.company_id,
        team_id=ticket.team_id,
        tags=frozenset(ticket.tags or ()),
    )


def ticket_history(uow: UnitOfWork, ticket: SlaTicket) -> TicketHistory:
    written = audit.trail_if_new(uow, entity_type=TICKET_ENTITY, entity_id=ticket.id)
    if written is not None:  # opened in this transaction: its whole trail is known
        return history_from_audit(ticket.created_at, (AuditFact(*row) for row in written))
    rows = audit.timeline(uow, entity_type=TICKET_ENTITY, entity_id=ticket.id)
    return history_from_audit(
        ticket.created_at,
        (AuditFact(r.occurred_at, r.action, r.field, r.new_value) for r in rows),
    )


def is_untouched_new_ticket(uow: UnitOfWork, ticket_id: int) -> bool:
    """Opened in this transaction and never measured or escalated yet: it has no stored clocks
    and no fired steps, so neither needs reading."""
    if ticket_id in uow.session.info.get(_TOUCHED_KEY, ()):
        return False
    return audit.trail_if_new(uow, entity_type=TICKET_ENTITY, entity_id=ticket_id) is not None


def touch(uow: UnitOfWork, ticket_id: int) -> None:
    """The ticket's clocks or firings may have rows now (read them from here on)."""
    touched: frozenset[int] = uow.session.info.get(_TOUCHED_KEY, frozenset())
    if ticket_id not in touched:
        # A new set (not changed in place): a savepoint that rolls back restores the old one.
        uow.session.info[_TOUCHED_KEY] = touched | {ticket_id}


def fired_positions(uow: UnitOfWork, ticket_id: int) -> dict[tuple[TargetKind, int], set[int]]:
    fired: dict[tuple[TargetKind, int], set[int]] = {}
    if is_untouched_new_ticket(uow, ticket_id):
        return fired
    for firing in repository.firings_of(uow.session, ticket_id):
        fired.setdefault((TargetKind(firing.kind), firing.cycle), set()).add(firing.step_position)
    return fired


def plan_clocks(
    ticket: SlaTicket,
    *,
    facts: TicketFacts,
    history: TicketHistory,
    book: Rulebook,
    now: datetime,
    rows: dict[TargetKind, TicketSlaClock],
    fired: dict[tuple[TargetKind, int], set[int]],
) -> tuple[list[ClockPlan], list[TargetKind]]:
    """What each target's clock is now, and which stored clocks no longer apply."""
    if ticket.merged_into_id is not None:
        return [], list(rows)  # a merged ticket is measured on the survivor
    chosen = choose_policy(book.policies, facts)
    setup = book.setups[chosen.id] if chosen is not None else None
    targets = targets_for(setup.targets, ticket.priority) if setup is not None else {}
    spans = clock_spans(history)
    plans: list[ClockPlan] = []
    dropped: list[TargetKind] = []
    for kind in TargetKind:
        span, row = spans.get(kind), rows.get(kind)
        if span is not None and row is not None and _is_kept(row, span):
            target = Target(kind, row.target_minutes, row.business_time)
            plans.append(ClockPlan(kind, span, target, row.policy_id))
        elif span is not None and setup is not None and kind in targets:
            evaluation = evaluate(
                targets[kind],
                span,
                calendar=book.calendar_for(setup),
                history=history,
                now=now,
                paused_statuses=setup.paused.get(kind),
                warning_fractions=setup.warning_fractions,
                ladder=setup.ladders.get(kind, ()),
                fired=frozenset(fired.get((kind, span.cycle), ())),
            )
            plans.append(ClockPlan(kind, span, targets[kind], setup.rule.id, setup, evaluation))
        elif row is not None:
            dropped.append(kind)
    return plans, dropped


def _is_kept(row: TicketSlaClock, span: ClockSpan) -> bool:
    """A clock met before (same cycle, same instant) is final."""
    return row.met_at is not None and row.cycle == span.cycle and row.met_at == span.met_at


# --- writing ------------------------------------------------------------------------------


def recompute_ticket(
    uow: UnitOfWork, *, ticket_id: int, via: str = VIA_CLOCKS, lock: bool = False
) -> Recomputed:
    """Bring the ticket's clocks and SLA summary up to date as of now."""
    ticket = tickets.ticket_for_sla(uow, ticket_id=ticket_id, lock=lock)
    now = uow.clock.now()
    fired = fired_positions(uow, ticket.id)
    stored = (
        []
        if is_untouched_new_ticket(uow, ticket.id)
        else repository.clocks_of(uow.session, ticket.id)
    )
    touch(uow, ticket.id)
    rows = {TargetKind(r.kind): r for r in stored}
    plans, dropped = plan_clocks(
        ticket,
        facts=ticket_facts(uow, ticket),
        history=ticket_history(uow, ticket),
        book=rulebook(uow),
        now=now,
        rows=rows,
        fired=fired,
    )
    repository.delete_clocks(uow.session, ticket.id, [k.value for k in dropped])
    checks_before = {kind: row.next_check_at for kind, row in rows.items()}
    result = Recomputed(ticket_id=ticket.id, plans=plans)
    for plan in plans:
        result.rows[plan.kind] = _store(uow, ticket, plan, rows.get(plan.kind), now, via)
    uow.session.flush()
    for kind, row in result.rows.items():
        if row.next_check_at is not None and row.next_check_at != checks_before.get(kind):
            schedule_check(uow, ticket_id=ticket.id, at=row.next_check_at)
    due_at, state = summarise(
        (TargetState(r.state), r.due_at, r.met_at) for r in result.rows.values()
    )
    shown = state.value if state is not None else None
    if (ticket.sla_due_at, ticket.sla_state) != (due_at, shown):
        tickets.set_sla_summary(uow, ticket_id=ticket.id, due_at=due_at, state=shown)
    done: frozenset[tuple[int, int]] | None = uow.session.info.get(_DONE_KEY)
    if done is None:
        # Once per transaction: the next one measures again (time moved on).
        uow.after_commit(lambda: uow.session.info.pop(_DONE_KEY, None))
    # A new set (not changed in place): a savepoint that rolls back restores the old one.
    uow.session.info[_DONE_KEY] = (done or frozenset()) | {(ticket.id, ticket.version)}
    return result


def _store(
    uow: UnitOfWork,
    ticket: SlaTicket,
    plan: ClockPlan,
    row: TicketSlaClock | None,
    now: datetime,
    via: str,
) -> TicketSlaClock:
    if plan.evaluation is None:
        assert row is not None
        return row
    clock = plan.evaluation.state
    values: dict[str, Any] = {
        "cycle": plan.span.cycle,
        "policy_id": plan.policy_id,
        "target_minutes": plan.target.minutes,
        "business_time": plan.target.business_time,
        "started_at": plan.span.started_at,
        "due_at": clock.due_at,
        "warning_at": plan.evaluation.warning_at,
        "state": clock.state.value,
        "met_at": clock.met_at,
        "breached_at": clock.breached_at,
        "elapsed_seconds": int(clock.elapsed.total_seconds()),
        "paused_seconds": int(clock.paused.total_seconds()),
        "next_check_at": plan.evaluation.next_check_at,
        "ticket_created_at": ticket.created_at,
        "ticket_priority": ticket.priority,
        "ticket_team_id": ticket.team_id,
    }
    before = None if row is None else {name: getattr(row, name) for name in values}
    if row is None:
        row = TicketSlaClock(ticket_id=ticket.id, kind=plan.kind.value, updated_at=now, **values)
        uow.session.add(row)
    elif any(before[name] != value for name, value in values.items()):  # type: ignore[index]
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    _record_milestones(uow, ticket.id, plan, before, values, via)
    return row


def _record_milestones(
    uow: UnitOfWork,
    ticket_id: int,
    plan: ClockPlan,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    via: str,
) -> None:
    """Breaches, met targets and re-targets go to the ticket's timeline (internal rows)."""
    same_cycle = before is not None and before["cycle"] == after["cycle"]
    kind = plan.kind.value
    detail = {
        "cycle": after["cycle"],
        "policy_id": after["policy_id"],
        "target_minutes": after["target_minutes"],
        "due_at": after["due_at"].isoformat(),
    }
    if (
        same_cycle
        and before is not None
        and before["met_at"] is None
        and (before["target_minutes"], before["policy_id"])
        != (after["target_minutes"], after["policy_id"])
    ):
        previous = {
            "policy_id": before["policy_id"],
            "target_minutes": before["target_minutes"],
            "due_at": before["due_at"].isoformat(),
        }
        record_on_ticket(uow, ticket_id, "sla.retargeted", Change(kind, previous, detail), via)
    if after["breached_at"] is not None and not (same_cycle and before and before["breached_at"]):
        record_on_ticket(uow, ticket_id, "sla.breached", Change(kind, None, detail), via)
    if after["met_at"] is not None and not (same_cycle and before and before["met_at"]):
        met = {
            **detail,
            "met_at": after["met_at"].isoformat(),
            "on_time": after["state"] == TargetState.met.value,
        }
        record_on_ticket(uow, ticket_id, "sla.met", Change(kind, None, met), via)


def schedule_check(uow: UnitOfWork, *, ticket_id: int, at: datetime) -> None:
    """A timer: ``sla.check_ticket`` for this ticket at ``at`` (a clock's next check), in the
    caller's transaction. One job per ticket and instant (the idempotency key), so
    recomputations never pile up duplicates; a timer made stale by a later change finds nothing
    due and ends. The minute scan stays as the safety net."""
    instant = ensure_utc(at)
    enqueue(
        uow,
        CHECK_TASK,
        {"ticket_id": ticket_id},
        run_at=instant,
        idempotency_key=f"sla.check:{ticket_id}:{instant.isoformat()}",
        max_attempts=CHECK_MAX_ATTEMPTS,
    )


def record_on_ticket(
    uow: UnitOfWork, ticket_id: int, action: str, change: Change, via: str
) -> None:
    """An internal row of the ticket's timeline, written by the system."""
    audit.record(
        uow,
        entity_type=TICKET_ENTITY,
        entity_id=ticket_id,
        action=action,
        actor=accounts.actor_of(SYSTEM),
        via=via,
        changes=[change],
    )


def recompute_after_change(uow: UnitOfWork, *, ticket_id: int) -> None:
    """The reaction to a ticket change: recompute once per version of the ticket and
    transaction (a new ticket's reactions to its opening and its first message measure it
    once)."""
    if ticket_id in uow.session.info.get(_FAILED_KEY, ()):
        return
    ticket = tickets.ticket_for_sla(uow, ticket_id=ticket_id)
    if (ticket.id, ticket.version) in uow.session.info.get(_DONE_KEY, ()):
        return
    recompute_ticket(uow, ticket_id=ticket_id)


def mark_failed(uow: UnitOfWork, ticket_id: int) -> None:
    """Leave the ticket alone for the rest of this unit of work (its savepoint rolled back)."""
    uow.session.info.setdefault(_FAILED_KEY, set()).add(ticket_id)


def request_recompute(uow: UnitOfWork, *, include_finished: bool = False) -> None:
    """After a settings change: recompute the open tickets (with ``include_finished``, every
    ticket) in the background, in batches. Several changes in one unit of work ask once."""
    requested = uow.session.info.get(_RECOMPUTE_REQUESTED)
    if requested is not None and (requested or not include_finished):
        return
    uow.session.info[_RECOMPUTE_REQUESTED] = include_finished
    enqueue(uow, RECOMPUTE_TASK, {"after_id": 0, "include_finished": include_finished})
    uow.after_commit(lambda: uow.session.info.pop(_RECOMPUTE_REQUESTED, None))


def recompute_tickets(
    uow: UnitOfWork,
    *,
    after_id: int = 0,
    include_finished: bool = False,
    limit: int = RECOMPUTE_BATCH,
) -> int | None:
    """Recompute the next ``limit`` open tickets (or, with ``include_finished``, tickets of any
    status) with an id above ``after_id``; the last id done, or ``None`` when none are left."""
    statuses = () if include_finished else sorted(s.value for s in OPEN_STATUSES)
    page = tickets.list_tickets(
        uow,
        query=TicketQuery(
            statuses=statuses,
            sort="id",
            descending=False,
            after={"id": after_id} if after_id else None,
            limit=limit,
        ),
        actor=SYSTEM,
    )
    for ticket in page.items:
        recompute_ticket(uow, ticket_id=ticket.id, lock=True)
    if not page.items or page.next_cursor is None:
        return None
    return page.items[-1].id


# --- showing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    kind: TargetKind
    cycle: int
    policy_id: int | None
    policy_name: str | None
    target: Target
    started_at: datetime
    due_at: datetime
    warning_at: datetime | None
    elapsed: timedelta
    paused: timedelta
    remaining: timedelta
    state: TargetState
    met_at: datetime | None
    breached_at: datetime | None
    next_check_at: datetime | None
    fired: Sequence[EscalationFiring]


def describe_ticket(uow: UnitOfWork, *, ticket_id: int) -> list[ClockView]:
    """The ticket's clocks as of now, measured live (nothing is written)."""
    ticket = tickets.ticket_for_sla(uow, ticket_id=ticket_id)
    book = rulebook(uow)
    rows = {TargetKind(r.kind): r for r in repository.clocks_of(uow.session, ticket.id)}
    firings = repository.firings_of(uow.session, ticket.id)
    fired: dict[tuple[TargetKind, int], set[int]] = {}
    for firing in firings:
        fired.setdefault((TargetKind(firing.kind), firing.cycle), set()).add(firing.step_position)
    plans, _dropped = plan_clocks(
        ticket,
        facts=ticket_facts(uow, ticket),
        history=ticket_history(uow, ticket),
        book=book,
        now=uow.clock.now(),
        rows=rows,
        fired=fired,
    )
    views: list[ClockView] = []
    for plan in plans:
        name = book.setups[plan.policy_id].rule.name if plan.policy_id in book.setups else None
        mine = [f for f in firings if f.kind == plan.kind.value and f.cycle == plan.span.cycle]
        views.append(_view(plan, rows.get(plan.kind), name, mine))
    return views


def _view(
    plan: ClockPlan,
    row: TicketSlaClock | None,
    policy_name: str | None,
    fired: Sequence[EscalationFiring],
) -> ClockView:
    if plan.evaluation is None:
        assert row is not None
        elapsed = timedelta(seconds=row.elapsed_seconds)
        return ClockView(
            kind=plan.kind,
            cycle=plan.span.cycle,
            policy_id=plan.policy_id,
            policy_name=policy_name,
            target=plan.target,
            started_at=plan.span.started_at,
            due_at=row.due_at,
            warning_at=row.warning_at,
            elapsed=elapsed,
            paused=timedelta(seconds=row.paused_seconds),
            remaining=plan.target.duration - elapsed,
            state=TargetState(row.state),
            met_at=row.met_at,
            breached_at=row.breached_at,
            next_check_at=None,
            fired=fired,
        )
    clock = plan.evaluation.state
    return ClockView(
        kind=plan.kind,
        cycle=plan.span.cycle,
        policy_id=plan.policy_id,
        policy_name=policy_name,
        target=plan.target,
        started_at=plan.span.started_at,
        due_at=clock.due_at,
        warning_at=plan.evaluation.warning_at,
        elapsed=clock.elapsed,
        paused=clock.paused,
        remaining=clock.remaining,
        state=clock.state,
        met_at=clock.met_at,
        breached_at=clock.breached_at,
        next_check_at=plan.evaluation.next_check_at,
        fired=fired,
    )


def ticket_sla(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> TicketSlaRead:
    """The clocks of a ticket the caller may read (staff only), measured as of now.

    A ticket the caller may not read does not exist for them (404) whatever their role; a
    customer reading their own ticket is refused its clocks (403)."""
    tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    permissions.require_read(actor)
    views = describe_ticket(uow, ticket_id=ticket_id)
    due_at, state = summarise((v.state, v.due_at, v.met_at) for v in views)
    return TicketSlaRead(
        ticket_id=ticket_id,
        due_at=due_at,
        state=state,
        clocks=[
            ClockRead(
                kind=v.kind,
                cycle=v.cycle,
                policy_id=v.policy_id,
                policy_name=v.policy_name,
                target_minutes=v.target.minutes,
                business_time=v.target.business_time,
                started_at=v.started_at,
                due_at=v.due_at,
                warning_at=v.warning_at,
                elapsed_seconds=v.elapsed.total_seconds(),
                paused_seconds=v.paused.total_seconds(),
                remaining_seconds=v.remaining.total_seconds(),
                state=v.state,
                met_at=v.met_at,
                breached_at=v.breached_at,
                next_check_at=v.next_check_at,
                escalations=[
                    FiringRead(
                        step=f.step_position,
                        action=EscalationAction(f.action),
                        outcome=FiringOutcome(f.outcome),
                        fired_at=f.fired_at,
                    )
                    for f in v.fired
                ],
            )
            for v in views
        ],
    )
