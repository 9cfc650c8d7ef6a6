"""Tables of the SLA feature: calendars, policies, targets, ladders, ticket clocks, firings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class BusinessCalendar(Base):
    """Working hours per weekday in one time zone, e.g. ``{"mon": ["09:00-21:00"], ...}``."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, list[str]]] = mapped_column(JSONDocument)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CalendarDay(Base):
    """A holiday (closed all day) or a make-up workday (调休, worked with its own hours)."""

    __tablename__ = "calendar_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120), default="")
    # Make-up workdays only: the day's intervals; null means the calendar's usual weekday hours.
    hours: Mapped[list[str] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        Index("uq_calendar_days_calendar_date", "calendar_id", "date", unique=True),
        CheckConstraint("kind in ('holiday', 'makeup_workday')", name="kind"),
    )


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, list[Any]]] = mapped_column(JSONDocument, default=dict)
    # Null: the default calendar.
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    # Target kind → status keys (``"pending:customer"``) that stop that kind's clock.
    paused_statuses: Mapped[dict[str, list[str]]] = mapped_column(JSONDocument, default=dict)
    warning_fractions: Mapped[list[float]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_sla_policies_position", "position", "id"),)


class SlaTarget(Base):
    __tablename__ = "sla_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int] = mapped_column(Integer)
    business_time: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("uq_sla_targets_policy_priority_kind", "policy_id", "priority", "kind", unique=True),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint(
            "kind in ('first_response', 'next_response', 'resolution')", name="target_kind"
        ),
    )


class EscalationStep(Base):
    """One rung of a policy's ladder for one target kind; exactly one trigger is set."""

    __tablename__ = "escalation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    at_fraction: Mapped[float | None] = mapped_column(Float)
    after_breach_minutes: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))

    __table_args__ = (
        Index(
            "uq_escalation_steps_policy_kind_position",
            "policy_id",
            "kind",
            "position",
            unique=True,
        ),
        CheckConstraint(
            "(at_fraction is null) <> (after_breach_minutes is null)", name="one_trigger"
        ),
        CheckConstraint(
            "action in ('notify_assignee', 'notify_team_lead', 'notify_manager', "
            "'raise_priority', 'reassign_team')",
            name="action",
        ),
    )


class TicketSlaClock(Base):
    """The stored state of one target's clock on one ticket, as of ``updated_at``.

    ``next_check_at`` is the next instant at which something happens without any change to the
    ticket (a warning, the breach, an escalation step): the scan selects rows by it.
    ``cycle`` counts next-response waits (1 for the other kinds).
    """

    __tablename__ = "ticket_sla_clocks"

    ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    target_minutes: Mapped[int] = mapped_column(Integer)
    business_time: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warning_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20))
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    elapsed_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    next_check_at: Mapped[datetime | None]
    # Copies of the ticket's attributes, so reports group without reading the tickets table.
    ticket_created_at: Mapped[datetime]
    ticket_priority: Mapped[str] = mapped_column(String(2))
    ticket_team_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_ticket_sla_clocks_next_check_at", "next_check_at"),
        Index("ix_ticket_sla_clocks_ticket_created_at", "ticket_created_at"),
        CheckConstraint(
            "kind in ('first_response', 'next_response', 'resolution')", name="target_kind"
        ),
        CheckConstraint(
            "state in ('running', 'paused', 'warning', 'met', 'breached')", name="state"
        ),
    )


class EscalationFiring(Base):
    """A ladder step that fired; the unique key makes each step fire once per ticket and
    target (and next-response cycle), even with several workers scanning at once."""

    __tablename__ = "sla_escalation_firings"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(Integer)
    step_position: Mapped[int] = mapped_column(Integer)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(30))
    # done: the action ran; skipped: nothing to do (nobody to tell, already highest priority);
    # expired: due so long ago (the worker was down) that acting now would only be noise.
    outcome: Mapped[str] = mapped_column(String(20))
    fired_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "uq_sla_escalation_firings_step",
            "ticket_id",
            "kind",
            "cycle",
            "step_position",
            unique=True,
        ),
        CheckConstraint("outcome in ('done', 'skipped', 'expired')", name="outcome"),
    )
