"""Tables of the inbound pipeline: what came in and what became of it, the email Message-IDs
of each ticket's thread, and the addresses mail to which bounces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument

OUTCOMES = (
    "pending",
    "ticket_opened",
    "message_added",
    "follow_up_opened",
    "ignored",
    "bounce",
    "quarantined",
    "discarded",
)


class InboundRecord(Base):
    """One message a channel handed in, exactly once per (channel, external id).

    The row is inserted first in the ingest transaction: the unique index is the exactly-once
    guard (a racing duplicate's ``INSERT ... ON CONFLICT DO NOTHING`` inserts nothing). It then
    records the outcome: the ticket and message it produced, or why it was ignored, taken as a
    bounce or quarantined.
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(80))
    ticket_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    message_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("messages.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id", ondelete="SET NULL")
    )
    # "<identity kind>:<value>", e.g. "email:li.lei@example.cn".
    sender: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    # The normalised, case-folded subject: same sender + same key continues a conversation.
    subject_key: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # SHA-256 of the raw bytes, stored content-addressed under the data directory.
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)

    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbound_messages_outcome_id", "outcome", "id"),
        Index("ix_inbound_messages_sender_subject", "sender", "subject_key", "received_at"),
        Index("ix_inbound_messages_ticket_id", "ticket_id"),
        Index("ix_inbound_messages_message_id", "message_id"),
        CheckConstraint(
            "outcome in (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")", name="outcome"
        ),
    )


class EmailReference(Base):
    """A Message-ID of a ticket's email thread: one we received or one we sent."""

    __tablename__ = "email_references"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    # Without angle brackets.
    message_id_header: Mapped[str] = mapped_column(String(500), unique=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("messages.id", ondelete="SET NULL")
    )
    direction: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_email_references_ticket_id", "ticket_id", "id"),
        CheckConstraint("direction in ('in', 'out')", name="direction"),
    )


class AddressFailure(Base):
    """An address mail to which bounced; outbound email skips it until the person writes in
    again from it."""

    __tablename__ = "channel_address_failures"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id", ondelete="SET NULL")
    )
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)
    last_reason: Mapped[str | None] = mapped_column(Text)
