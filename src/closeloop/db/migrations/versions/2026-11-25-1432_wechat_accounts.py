"""WeChat official accounts, followers (48-hour windows) and outgoing replies

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 14:32:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("app_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("encoding_aes_key_encrypted", sa.Text(), nullable=True),
        sa.Column("encryption_mode", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "encryption_mode in ('plain', 'compatible', 'safe')",
            name=op.f("ck_wechat_accounts_encryption_mode"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_wechat_accounts_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_accounts")),
        sa.UniqueConstraint("app_id", name=op.f("uq_wechat_accounts_app_id")),
    )

    op.create_table(
        "wechat_followers",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("customer_id", BIG_KEY, nullable=True),
        sa.Column("is_subscribed", sa.Boolean(), nullable=False),
        sa.Column("subscribed_at", WHEN, nullable=True),
        sa.Column("unsubscribed_at", WHEN, nullable=True),
        sa.Column("last_interaction_at", WHEN, nullable=True),
        sa.Column("last_event", sa.String(length=40), nullable=True),
        sa.Column("last_event_at", WHEN, nullable=True),
        sa.Column("last_ticket_id", BIG_KEY, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wechat_accounts.id"],
            name=op.f("fk_wechat_followers_account_id_wechat_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_wechat_followers_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["last_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_wechat_followers_last_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint(
            "account_id", "openid", name=op.f("uq_wechat_followers_account_id_openid")
        ),
    )
    with op.batch_alter_table("wechat_followers", schema=None) as batch_op:
        batch_op.create_index("ix_wechat_followers_customer_id", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_wechat_followers_last_ticket_id", ["last_ticket_id"], unique=False
        )

    op.create_table(
        "wechat_deliveries",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("message_id", BIG_KEY, nullable=False),
        sa.Column("ticket_id", BIG_KEY, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("parts_sent", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("send_started_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'cancelled')", name=op.f("ck_wechat_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wechat_accounts.id"],
            name=op.f("fk_wechat_deliveries_account_id_wechat_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_wechat_deliveries_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_wechat_deliveries_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_wechat_deliveries_message_id")),
    )
    with op.batch_alter_table("wechat_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_wechat_deliveries_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_wechat_deliveries_ticket_id", ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wechat_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_wechat_deliveries_ticket_id")
        batch_op.drop_index("ix_wechat_deliveries_account_id")
    op.drop_table("wechat_deliveries")
    with op.batch_alter_table("wechat_followers", schema=None) as batch_op:
        batch_op.drop_index("ix_wechat_followers_last_ticket_id")
        batch_op.drop_index("ix_wechat_followers_customer_id")
    op.drop_table("wechat_followers")
    op.drop_table("wechat_accounts")
