"""Tables of the WeChat channel: official accounts, their followers, outgoing replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey


class WeChatAccount(Base):
    """One official account (公众号) whose pushes we take, with its credentials.

    The app secret, token and EncodingAESKey are stored encrypted (``channels.credentials``) and
    never returned or logged. The access token is cached here, encrypted too, so that every web
    and worker process shares one token instead of fetching (and invalidating) its own.
    """

    __tablename__ = "wechat_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    app_id: Mapped[str] = mapped_column(String(32), unique=True)
    app_secret_encrypted: Mapped[str] = mapped_column(Text)
    token_encrypted: Mapped[str] = mapped_column(Text)
    encoding_aes_key_encrypted: Mapped[str | None] = mapped_column(Text)
    encryption_mode: Mapped[str] = mapped_column(String(20))
    # New tickets from this account go to this team (None: routing decides).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(
            "encryption_mode in ('plain', 'compatible', 'safe')", name="encryption_mode"
        ),
    )


class WeChatFollower(Base):
    """A person as one account knows them (an openid), and their customer-service window.

    ``last_interaction_at`` is WeChat's time of their last message, menu click, subscription or
    QR scan: replies may be sent for 48 hours after it.
    """

    __tablename__ = "wechat_followers"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id", ondelete="CASCADE"))
    openid: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("customers.id", ondelete="SET NULL")
    )
    is_subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    subscribed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    last_interaction_at: Mapped[datetime | None]
    last_event: Mapped[str | None] = mapped_column(String(40))
    last_event_at: Mapped[datetime | None]
    # The ticket their last message went to: replies on it go back through this account.
    last_ticket_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("account_id", "openid"),
        Index("ix_wechat_followers_customer_id", "customer_id"),
        Index("ix_wechat_followers_last_ticket_id", "last_ticket_id"),
    )


class WeChatDelivery(Base):
    """An agent's public reply on its way to a follower, and its fate.

    ``send_started_at`` is set (and committed) just before the API call and cleared when its
    outcome is recorded: on a pending delivery it means the outcome of a send is unknown.
    """

    __tablename__ = "wechat_deliveries"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigIntKey, ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("wechat_accounts.id", ondelete="SET NULL")
    )
    openid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How many parts (the text, then each image) WeChat accepted: a retry sends only the rest.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    send_started_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status in ('pending', 'sent', 'cancelled')", name="status"),
        Index("ix_wechat_deliveries_ticket_id", "ticket_id"),
        Index("ix_wechat_deliveries_account_id", "account_id"),
    )
