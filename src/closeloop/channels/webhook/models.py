"""Tables of webhook intake: the configured sources, and the caller's ticket references."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey


class WebhookSource(Base):
    """An app, call centre or chat tool allowed to post to ``/api/v1/channels/webhook/{slug}``."""

    __tablename__ = "webhook_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    # Fernet tokens (channels.credentials) of the signing secret, and of the one it replaced
    # while a rotation's grace period runs; the secrets themselves are shown once.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    replay_window_seconds: Mapped[int] = mapped_column(Integer, default=300)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("channel in ('api', 'phone', 'chat', 'web')", name="channel"),
        CheckConstraint("replay_window_seconds between 30 and 86400", name="replay_window"),
    )


class WebhookTicketReference(Base):
    """The caller's own id of a conversation (``ticket_external_id``) → our ticket."""

    __tablename__ = "webhook_ticket_references"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("webhook_sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "uq_webhook_ticket_references_source_external",
            "source_id",
            "external_id",
            unique=True,
        ),
        Index("ix_webhook_ticket_references_ticket_id", "ticket_id"),
    )
