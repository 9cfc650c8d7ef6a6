"""Tables of the email channel: team mailboxes (IMAP settings and poll state), each team's
sender name and acknowledgement template, and the outgoing emails (replies, acknowledgements)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey


class EmailMailbox(Base):
    """A team's email address: where customers write to (polled over IMAP, or received by
    ``closeloop smtpd``) and what its replies come from."""

    __tablename__ = "email_mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    # Lower case; the team's From/To address. Unique: one address belongs to one mailbox.
    address: Mapped[str] = mapped_column(String(254), unique=True)
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    tls_mode: Mapped[str] = mapped_column(String(10), default="ssl")
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    username: Mapped[str] = mapped_column(String(254), default="")
    # Fernet token of the IMAP password (channels.credentials); never logged nor returned.
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flag fetched messages \Seen once they are stored (mail is never deleted).
    mark_seen: Mapped[bool] = mapped_column(Boolean, default=True)
    # Poll state, by UID: resumable after any crash.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The poll lease: one chain of fetch jobs per mailbox at a time.
    poll_token: Mapped[str | None] = mapped_column(String(64))
    poll_locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("tls_mode in ('ssl', 'starttls', 'none')", name="tls_mode"),
        Index("ix_email_mailboxes_team_id", "team_id"),
    )


class EmailTeamSettings(Base):
    """A team's sender display name and acknowledgement template (empty: the defaults)."""

    __tablename__ = "email_team_settings"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    acknowledgement_subject_zh: Mapped[str] = mapped_column(String(300), default="")
    acknowledgement_body_zh: Mapped[str] = mapped_column(Text, default="")
    acknowledgement_subject_en: Mapped[str] = mapped_column(String(300), default="")
    acknowledgement_body_en: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class OutgoingEmail(Base):
    """One email to a customer (a public reply, an acknowledgement) and its delivery state.

    ``dedupe_key`` makes each one unique: ``reply:message:<id>``, ``acknowledgement:ticket:<id>``
    (at most one acknowledgement per ticket, ever).
    """

    __tablename__ = "email_outgoing"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    ticket_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        BigIntKey, ForeignKey("messages.id", ondelete="SET NULL")
    )
    to_address: Mapped[str] = mapped_column(String(254))
    # Generated when the send is first prepared, and kept: a resend has the same Message-ID.
    message_id_header: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("kind in ('reply', 'acknowledgement')", name="kind"),
        CheckConstraint("status in ('pending', 'sent', 'skipped', 'cancelled')", name="status"),
        Index("ix_email_outgoing_ticket_id", "ticket_id"),
        {"sqlite_autoincrement": True},
    )
