"""Tables of the tickets feature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class Ticket(Base):
    __tablename__ = "tickets"

    # AUTOINCREMENT on SQLite and an identity on PostgreSQL: an id, and so a ticket number,
    # is never handed out twice, even after the newest ticket is deleted.
    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))
    pending_reason: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    requester_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("customers.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    tags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(BigIntKey, ForeignKey("tickets.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The SLA summary, written only by ``service.set_sla_summary`` (the sla feature's clocks):
    # the earliest due instant of the running clocks and the worst state of all of them.
    sla_due_at: Mapped[datetime | None]
    sla_state: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_status_created_at", "status", "created_at", "id"),
        Index("ix_tickets_team_created_at", "team_id", "created_at", "id"),
        Index("ix_tickets_team_status_created_at", "team_id", "status", "created_at", "id"),
        Index("ix_tickets_assignee_created_at", "assignee_id", "created_at", "id"),
        Index("ix_tickets_requester_created_at", "requester_id", "created_at", "id"),
        Index("ix_tickets_company_created_at", "company_id", "created_at", "id"),
        Index("ix_tickets_priority_created_at", "priority", "created_at", "id"),
        Index("ix_tickets_sla_due_at_id", "sla_due_at", "id"),
        Index("ix_tickets_sla_state_due_at", "sla_state", "sla_due_at", "id"),
        # Agents' views: "my open tickets" (by SLA due) without walking all they ever held,
        # "recently resolved" without walking closed tickets.
        Index("ix_tickets_assignee_status_due", "assignee_id", "status", "sla_due_at", "id"),
        Index("ix_tickets_resolved_at_id", "resolved_at", "id"),
        CheckConstraint("type in ('inquiry', 'fault', 'complaint', 'request')", name="type"),
        CheckConstraint("priority in ('P1', 'P2', 'P3', 'P4')", name="priority"),
        CheckConstraint(
            "status in ('new', 'open', 'in_progress', 'pending', 'resolved', 'closed')",
            name="status",
        ),
        {"sqlite_autoincrement": True},
    )


class TicketTag(Base):
    """One row per tag, so a tag filter is an index lookup (the ticket also keeps the list)."""

    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_ticket_tags_tag_ticket_id", "tag", "ticket_id"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_customer_id: Mapped[int | None] = mapped_column(BigIntKey, ForeignKey("customers.id"))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(255))
    original_ticket_id: Mapped[int | None] = mapped_column(BigIntKey)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_messages_ticket_id_created_at", "ticket_id", "created_at", "id"),
        CheckConstraint(
            "kind in ('customer_message', 'public_reply', 'internal_note')", name="kind"
        ),
    )


class Attachment(Base):
    """File metadata; the bytes live on disk under their SHA-256 (content-addressed)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    uploaded_by_customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id")
    )
    created_at: Mapped[datetime]


class TicketLink(Base):
    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    source_ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    target_ticket_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "uq_ticket_links_source_target_kind",
            "source_ticket_id",
            "target_ticket_id",
            "kind",
            unique=True,
        ),
        CheckConstraint(
            "kind in ('related', 'duplicate_of', 'parent_of', 'follow_up_of', 'merged_into')",
            name="kind",
        ),
        CheckConstraint("source_ticket_id <> target_ticket_id", name="not_self"),
    )


class TicketFollower(Base):
    """An agent of another team or a colleague of the requester who is kept informed."""

    __tablename__ = "ticket_followers"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("uq_ticket_followers_agent", "ticket_id", "agent_id", unique=True),
        Index("uq_ticket_followers_customer", "ticket_id", "customer_id", unique=True),
        Index("ix_ticket_followers_agent_id", "agent_id"),
        Index("ix_ticket_followers_customer_id", "customer_id"),
        CheckConstraint("(agent_id is null) <> (customer_id is null)", name="exactly_one_follower"),
    )


class CustomFieldDefinition(Base):
    """A field tickets of one type (or of every type when ``ticket_type`` is null) carry."""

    __tablename__ = "custom_field_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str | None] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(120))
    label_zh: Mapped[str] = mapped_column(String(120))
    field_type: Mapped[str] = mapped_column(String(20))
    options: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    is_required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("uq_custom_field_definitions_type_key", "ticket_type", "key", unique=True),
        CheckConstraint("field_type in ('text', 'number', 'date', 'select')", name="field_type"),
    )
