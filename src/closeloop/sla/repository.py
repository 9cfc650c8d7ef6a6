"""Every query on the SLA tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from closeloop.sla.models import (
    BusinessCalendar,
    CalendarDay,
    EscalationFiring,
    EscalationStep,
    SlaPolicy,
    SlaTarget,
    TicketSlaClock,
)

GroupBy = Literal["policy", "target", "team", "priority"]


# --- calendars ----------------------------------------------------------------------------


def calendars(session: Session) -> Sequence[BusinessCalendar]:
    return session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.id)).all()


def calendar(
    session: Session, calendar_id: int, *, for_update: bool = False
) -> BusinessCalendar | None:
    query = select(BusinessCalendar).where(BusinessCalendar.id == calendar_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def calendar_by_name(session: Session, name: str) -> BusinessCalendar | None:
    return session.scalars(select(BusinessCalendar).where(BusinessCalendar.name == name)).first()


def default_calendars(session: Session) -> Sequence[BusinessCalendar]:
    return session.scalars(
        select(BusinessCalendar)
        .where(BusinessCalendar.is_default.is_(True))
        .order_by(BusinessCalendar.id)
    ).all()


def clear_default_calendar(session: Session, *, except_id: int) -> None:
    session.execute(
        update(BusinessCalendar)
        .where(BusinessCalendar.is_default.is_(True), BusinessCalendar.id != except_id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )


def days_of(session: Session, calendar_ids: Sequence[int]) -> Sequence[CalendarDay]:
    if not calendar_ids:
        return []
    return session.scalars(
        select(CalendarDay)
        .where(CalendarDay.calendar_id.in_(list(calendar_ids)))
        .order_by(CalendarDay.calendar_id, CalendarDay.date)
    ).all()


def day(session: Session, calendar_id: int, day_id: int) -> CalendarDay | None:
    return session.scalars(
        select(CalendarDay).where(CalendarDay.id == day_id, CalendarDay.calendar_id == calendar_id)
    ).first()


def delete_days(session: Session, calendar_id: int, dates: Sequence[Any]) -> None:
    if dates:
        session.execute(
            delete(CalendarDay).where(
                CalendarDay.calendar_id == calendar_id, CalendarDay.date.in_(list(dates))
            )
        )


def policy_names_using_calendar(session: Session, calendar_id: int) -> Sequence[str]:
    return session.scalars(
        select(SlaPolicy.name).where(SlaPolicy.calendar_id == calendar_id).order_by(SlaPolicy.id)
    ).all()


# --- policies -----------------------------------------------------------------------------


def policies(session: Session) -> Sequence[SlaPolicy]:
    return session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)).all()


def policy(session: Session, policy_id: int, *, for_update: bool = False) -> SlaPolicy | None:
    query = select(SlaPolicy).where(SlaPolicy.id == policy_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def policy_by_name(session: Session, name: str) -> SlaPolicy | None:
    return session.scalars(select(SlaPolicy).where(SlaPolicy.name == name)).first()


def next_policy_position(session: Session) -> int:
    highest = session.scalar(select(func.max(SlaPolicy.position)))
    return 0 if highest is None else int(highest) + 1


def targets_of(session: Session, policy_ids: Sequence[int]) -> Sequence[SlaTarget]:
    if not policy_ids:
        return []
    return session.scalars(
        select(SlaTarget)
        .where(SlaTarget.policy_id.in_(list(policy_ids)))
        .order_by(SlaTarget.policy_id, SlaTarget.priority, SlaTarget.kind)
    ).all()


def steps_of(session: Session, policy_ids: Sequence[int]) -> Sequence[EscalationStep]:
    if not policy_ids:
        return []
    return session.scalars(
        select(EscalationStep)
        .where(EscalationStep.policy_id.in_(list(policy_ids)))
        .order_by(EscalationStep.policy_id, EscalationStep.kind, EscalationStep.position)
    ).all()


def replace_targets(session: Session, policy_id: int, rows: Sequence[dict[str, Any]]) -> None:
    session.execute(delete(SlaTarget).where(SlaTarget.policy_id == policy_id))
    session.add_all(SlaTarget(policy_id=policy_id, **row) for row in rows)


def replace_steps(session: Session, policy_id: int, rows: Sequence[dict[str, Any]]) -> None:
    session.execute(delete(EscalationStep).where(EscalationStep.policy_id == policy_id))
    session.add_all(EscalationStep(policy_id=policy_id, **row) for row in rows)


# --- clocks -------------------------------------------------------------------------------


def clocks_of(session: Session, ticket_id: int) -> Sequence[TicketSlaClock]:
    return session.scalars(
        select(TicketSlaClock)
        .where(TicketSlaClock.ticket_id == ticket_id)
        .order_by(TicketSlaClock.kind)
    ).all()


def delete_clocks(session: Session, ticket_id: int, kinds: Sequence[str]) -> None:
    if kinds:
        session.execute(
            delete(TicketSlaClock)
            .where(TicketSlaClock.ticket_id == ticket_id, TicketSlaClock.kind.in_(list(kinds)))
            .execution_options(synchronize_session="fetch")
        )


def due_ticket_ids(session: Session, now: datetime, *, limit: int) -> tuple[list[int], bool]:
    """Tickets with a clock whose next check has come, most overdue first, from at most
    ``limit`` clocks, and whether the limit was reached (an index range scan on
    ``next_check_at``: the cost grows with the number of due clocks, not of tickets)."""
    rows = session.execute(
        select(TicketSlaClock.ticket_id, TicketSlaClock.next_check_at)
        .where(TicketSlaClock.next_check_at <= now)
        .order_by(TicketSlaClock.next_check_at)
        .limit(limit)
    ).all()
    return list(dict.fromkeys(row[0] for row in rows)), len(rows) >= limit


def has_due_check(session: Session, ticket_id: int, now: datetime) -> bool:
    """Whether one of the ticket's clocks has its next check at or before ``now``."""
    found = session.scalar(
        select(TicketSlaClock.ticket_id)
        .where(TicketSlaClock.ticket_id == ticket_id, TicketSlaClock.next_check_at <= now)
        .limit(1)
    )
    return found is not None


def postpone_checks(session: Session, ticket_id: int, *, due_by: datetime, until: datetime) -> int:
    """Move the ticket's checks due by ``due_by`` to ``until``; how many clocks moved."""
    result = session.execute(
        update(TicketSlaClock)
        .where(TicketSlaClock.ticket_id == ticket_id, TicketSlaClock.next_check_at <= due_by)
        .values(next_check_at=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- escalation firings -------------------------------------------------------------------


def firings_of(session: Session, ticket_id: int) -> Sequence[EscalationFiring]:
    return session.scalars(
        select(EscalationFiring)
        .where(EscalationFiring.ticket_id == ticket_id)
        .order_by(EscalationFiring.kind, EscalationFiring.cycle, EscalationFiring.step_position)
    ).all()


def insert_firing(session: Session, values: dict[str, Any]) -> bool:
    """Record a step as fired; False when it was recorded already (by this or another worker).

    The unique index is the guard: the insert does nothing on a conflict, on both databases,
    and on PostgreSQL waits for a concurrent inserter of the same key to commit or roll back.
    """
    table = EscalationFiring.__table__
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)  # type: ignore[arg-type]
        .values(**values)
        .on_conflict_do_nothing(index_elements=["ticket_id", "kind", "cycle", "step_position"])
        .returning(table.c.id)
    )
    # The row comes back only when it was inserted (a rowcount is not reliable with RETURNING).
    return session.execute(statement).first() is not None


# --- reporting ----------------------------------------------------------------------------


def attainment_rows(
    session: Session, *, start: datetime, end: datetime, group_by: GroupBy
) -> list[tuple[Any, Any, int, int, int]]:
    """(key, label, met, breached, total) per group over the clocks of tickets created in
    ``[start, end)``: one grouped statement."""
    key: Any
    label: Any
    query_from: Any = TicketSlaClock.__table__
    if group_by == "policy":
        key, label = TicketSlaClock.policy_id, func.max(SlaPolicy.name)
        query_from = query_from.outerjoin(
            SlaPolicy.__table__, SlaPolicy.id == TicketSlaClock.policy_id
        )
    elif group_by == "target":
        key, label = TicketSlaClock.kind, literal(None)
    elif group_by == "team":
        key, label = TicketSlaClock.ticket_team_id, literal(None)
    else:
        key, label = TicketSlaClock.ticket_priority, literal(None)
    met = func.sum(case((TicketSlaClock.state == "met", 1), else_=0))
    breached = func.sum(case((TicketSlaClock.state == "breached", 1), else_=0))
    rows = session.execute(
        select(key, label, met, breached, func.count())
        .select_from(query_from)
        .where(TicketSlaClock.ticket_created_at >= start, TicketSlaClock.ticket_created_at < end)
        .group_by(key)
        .order_by(key)
    ).all()
    return [(r[0], r[1], int(r[2] or 0), int(r[3] or 0), int(r[4])) for r in rows]
