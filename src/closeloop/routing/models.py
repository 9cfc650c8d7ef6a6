"""Tables of the routing feature: rules, team strategies, agent availability and shifts, the
decisions taken on each ticket, transfers between teams, triage state and agents' corrections."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class RoutingRule(Base):
    """One ordered rule: conditions (JSON list) and what it sets (JSON object)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    match: Mapped[str] = mapped_column(String(10), default="all")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_routing_rules_position", "position", "id"),
        CheckConstraint("match in ('all', 'any')", name="match"),
    )


class RoutingSettings(Base):
    """The organisation's routing settings (one row): when a ticket counts as ping-pong, and
    where it goes then."""

    __tablename__ = "routing_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ping_pong_threshold: Mapped[int] = mapped_column(SmallInteger, default=3)
    escalation_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL")
    )
    move_ping_pong: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("ping_pong_threshold >= 0", name="threshold"),)


class TeamRouting(Base):
    """How a team's tickets find an agent; a triage team works the triage queue."""

    __tablename__ = "team_routing"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    strategy: Mapped[str] = mapped_column(String(20), default="manual")
    is_triage_team: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "strategy in ('manual', 'round_robin', 'least_load', 'skills')", name="strategy"
        ),
    )


class AgentAvailability(Base):
    """Whether an agent takes work now, and how much. An agent without a row is offline."""

    __tablename__ = "agent_availability"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10), default="offline")
    capacity: Mapped[int] = mapped_column(SmallInteger, default=20)
    max_concurrent: Mapped[int] = mapped_column(SmallInteger, default=10)
    last_assigned_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("status in ('online', 'away', 'offline')", name="status"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("max_concurrent >= 1", name="max_concurrent"),
    )


class AgentShift(Base):
    """A weekly working period (weekday 0 = Monday); ``end`` before ``start`` runs past
    midnight."""

    __tablename__ = "agent_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    time_zone: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_agent_shifts_agent_id", "agent_id", "weekday"),
        CheckConstraint("weekday between 0 and 6", name="weekday"),
    )


class TicketTransfer(Base):
    """A ticket handed from one team to another, with the reason."""

    __tablename__ = "ticket_transfers"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    from_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]

    __table_args__ = (Index("ix_ticket_transfers_ticket_id", "ticket_id", "at", "id"),)


class RoutingDecision(Base):
    """Why a field of a ticket got its value: a rule, the classifier, a person, an assigner."""

    __tablename__ = "routing_decisions"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    # The classifier's model (its table belongs to the classifier; no foreign key on purpose).
    model_id: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_routing_decisions_ticket_id", "ticket_id", "field", "id"),
        CheckConstraint("field in ('type', 'priority', 'team', 'assignee')", name="field"),
        CheckConstraint("source in ('rule', 'model', 'manual', 'assigner')", name="source"),
    )


class TicketRouting(Base):
    """Routing's state of one ticket: waiting in the triage queue, skills it needs, ping-pong."""

    __tablename__ = "ticket_routing"

    ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    in_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    triage_reason: Mapped[str] = mapped_column(String(200), default="")
    triaged_at: Mapped[datetime | None]
    required_skills: Mapped[dict[str, int]] = mapped_column(JSONDocument, default=dict)
    ping_pong_at: Mapped[datetime | None]
    suggested_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_ticket_routing_in_triage", "in_triage", "triaged_at"),)


class RoutingFeedback(Base):
    """An agent corrected a field routing had decided: training data for the classifier."""

    __tablename__ = "routing_feedback"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))
    predicted: Mapped[str | None] = mapped_column(String(200))
    corrected: Mapped[str | None] = mapped_column(String(200))
    # What decided the corrected value: rule, model, or triage (nothing decided).
    source: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    model_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_routing_feedback_at", "at", "id"),
        Index("ix_routing_feedback_ticket_id", "ticket_id"),
        CheckConstraint("field in ('type', 'priority', 'team')", name="field"),
        CheckConstraint("source in ('rule', 'model', 'triage')", name="source"),
    )
