"""Tables of the notifications feature: in-app notifications, chat-bot channels, deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class Notification(Base):
    """One line in an agent's notification list, written in the agent's language."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    recipient_agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    # The same occurrence (e.g. an SLA warning retried by its job) never shows twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notifications_recipient_id", "recipient_agent_id", "id"),
        Index("ix_notifications_recipient_read_id", "recipient_agent_id", "read_at", "id"),
        Index("ix_notifications_ticket_id", "ticket_id"),
    )


class NotificationChannel(Base):
    """An organisation's chat-bot destination (WeCom, DingTalk, Feishu) or signed webhook."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(1000))
    # Fernet token of the signing secret, keyed from the server secret key; never returned.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("kind in ('wecom', 'dingtalk', 'feishu', 'webhook')", name="kind"),
        Index("ix_notification_channels_team_id", "team_id"),
    )


class NotificationDelivery(Base):
    """One outgoing message (an email to a person or a post to a channel) and its fate."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    # "<occurrence>|<target>": a retried job or a repeated notify() never sends twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="SET NULL")
    )
    recipient_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    recipient_customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id", ondelete="SET NULL")
    )
    address: Mapped[str | None] = mapped_column(String(254))
    ticket_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    locale: Mapped[str] = mapped_column(String(10))
    time_zone: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Set (and committed) just before the message leaves, cleared when its outcome is recorded:
    # on a pending delivery it means a send began whose outcome is unknown (its worker died).
    send_started_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("kind in ('email', 'wecom', 'dingtalk', 'feishu', 'webhook')", name="kind"),
        CheckConstraint("status in ('pending', 'sent', 'cancelled')", name="status"),
        CheckConstraint(
            "(kind = 'email') = (address is not null and channel_id is null)",
            name="email_has_address",
        ),
        Index("ix_notification_deliveries_status_created_at", "status", "created_at"),
        Index("ix_notification_deliveries_channel_id", "channel_id"),
        Index("ix_notification_deliveries_ticket_id", "ticket_id"),
    )
