"""Email mailboxes per team: IMAP settings, UID state, sender names, outgoing emails

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 14:31:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("imap_host", sa.String(length=255), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("tls_mode", sa.String(length=10), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("mark_seen", sa.Boolean(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("poll_token", sa.String(length=64), nullable=True),
        sa.Column("poll_locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tls_mode in ('ssl', 'starttls', 'none')", name=op.f("ck_email_mailboxes_tls_mode")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_email_mailboxes_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_email_mailboxes_address")),
    )
    with op.batch_alter_table("email_mailboxes", schema=None) as batch_op:
        batch_op.create_index("ix_email_mailboxes_team_id", ["team_id"], unique=False)

    op.create_table(
        "email_team_settings",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("acknowledgement_subject_zh", sa.String(length=300), nullable=False),
        sa.Column("acknowledgement_body_zh", sa.Text(), nullable=False),
        sa.Column("acknowledgement_subject_en", sa.String(length=300), nullable=False),
        sa.Column("acknowledgement_body_en", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_email_team_settings_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_email_team_settings")),
    )

    op.create_table(
        "email_outgoing",
        sa.Column("id", _BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", _BIGINT_KEY, nullable=False),
        sa.Column("message_id", _BIGINT_KEY, nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("message_id_header", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('reply', 'acknowledgement')", name=op.f("ck_email_outgoing_kind")
        ),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'skipped', 'cancelled')",
            name=op.f("ck_email_outgoing_status"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_email_outgoing_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_email_outgoing_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outgoing")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_email_outgoing_dedupe_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("email_outgoing", schema=None) as batch_op:
        batch_op.create_index("ix_email_outgoing_ticket_id", ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_outgoing", schema=None) as batch_op:
        batch_op.drop_index("ix_email_outgoing_ticket_id")
    op.drop_table("email_outgoing")
    op.drop_table("email_team_settings")
    with op.batch_alter_table("email_mailboxes", schema=None) as batch_op:
        batch_op.drop_index("ix_email_mailboxes_team_id")
    op.drop_table("email_mailboxes")
