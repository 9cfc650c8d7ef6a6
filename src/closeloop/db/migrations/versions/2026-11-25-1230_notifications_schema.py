"""Notifications: in-app list, chat-bot channels, outgoing deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:30:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column(
            "events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('wecom', 'dingtalk', 'feishu', 'webhook')",
            name=op.f("ck_notification_channels_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_notification_channels_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
    )
    with op.batch_alter_table("notification_channels", schema=None) as batch_op:
        batch_op.create_index("ix_notification_channels_team_id", ["team_id"], unique=False)

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("recipient_agent_id", sa.Integer(), nullable=True),
        sa.Column(
            "recipient_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'email') = (address is not null and channel_id is null)",
            name=op.f("ck_notification_deliveries_email_has_address"),
        ),
        sa.CheckConstraint(
            "kind in ('email', 'wecom', 'dingtalk', 'feishu', 'webhook')",
            name=op.f("ck_notification_deliveries_kind"),
        ),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'cancelled')",
            name=op.f("ck_notification_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name=op.f("fk_notification_deliveries_channel_id_notification_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_agent_id"],
            ["agents.id"],
            name=op.f("fk_notification_deliveries_recipient_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_customer_id"],
            ["customers.id"],
            name=op.f("fk_notification_deliveries_recipient_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_notification_deliveries_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_notification_deliveries_idempotency_key")
        ),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_notification_deliveries_channel_id", ["channel_id"], unique=False)
        batch_op.create_index(
            "ix_notification_deliveries_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index("ix_notification_deliveries_ticket_id", ["ticket_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recipient_agent_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_agent_id"],
            ["agents.id"],
            name=op.f("fk_notifications_recipient_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_notifications_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_recipient_id", ["recipient_agent_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_recipient_read_id",
            ["recipient_agent_id", "read_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_notifications_ticket_id", ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_ticket_id")
        batch_op.drop_index("ix_notifications_recipient_read_id")
        batch_op.drop_index("ix_notifications_recipient_id")

    op.drop_table("notifications")
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_deliveries_ticket_id")
        batch_op.drop_index("ix_notification_deliveries_status_created_at")
        batch_op.drop_index("ix_notification_deliveries_channel_id")

    op.drop_table("notification_deliveries")
    with op.batch_alter_table("notification_channels", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_channels_team_id")

    op.drop_table("notification_channels")
