"""Signed webhook sources, CRM lookup settings, and customers merged into others

- ``webhook_sources``: the apps, call centres and chat tools allowed to post to
  ``/api/v1/channels/webhook/{slug}``, with their encrypted signing secret (and the previous one
  while a rotation's grace period runs) and their replay window;
- ``webhook_ticket_references``: a source's own conversation id → our ticket;
- ``crm_settings``: the organisation's optional CRM lookup (one row);
- ``customers.merged_into_id``: a customer merged into another keeps pointing at the survivor.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 14:33:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("previous_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("replay_window_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel in ('api', 'phone', 'chat', 'web')", name=op.f("ck_webhook_sources_channel")
        ),
        sa.CheckConstraint(
            "replay_window_seconds between 30 and 86400",
            name=op.f("ck_webhook_sources_replay_window"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_webhook_sources_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_sources")),
        sa.UniqueConstraint("slug", name=op.f("uq_webhook_sources_slug")),
    )
    op.create_table(
        "webhook_ticket_references",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", BIG_KEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["webhook_sources.id"],
            name=op.f("fk_webhook_ticket_references_source_id_webhook_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_webhook_ticket_references_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_ticket_references")),
    )
    with op.batch_alter_table("webhook_ticket_references", schema=None) as batch_op:
        batch_op.create_index(
            "uq_webhook_ticket_references_source_external",
            ["source_id", "external_id"],
            unique=True,
        )
        batch_op.create_index("ix_webhook_ticket_references_ticket_id", ["ticket_id"], unique=False)
    op.create_table(
        "crm_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("url_template", sa.String(length=2000), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("tier_path", sa.String(length=200), nullable=False),
        sa.Column("tier_values", JSON_DOCUMENT, nullable=False),
        sa.Column("company_path", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_settings")),
    )
    # A plain ADD COLUMN with the reference inline on SQLite: a batch "move and copy" of
    # customers would drop the old table, and with foreign keys on that deletes every identity,
    # token and session (ON DELETE CASCADE) on the way.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE customers ADD COLUMN merged_into_id INTEGER"
            " CONSTRAINT fk_customers_merged_into_id_customers REFERENCES customers (id)"
        )
    else:
        op.add_column("customers", sa.Column("merged_into_id", BIG_KEY, nullable=True))
        op.create_foreign_key(
            op.f("fk_customers_merged_into_id_customers"),
            "customers",
            "customers",
            ["merged_into_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a column without copying the table, unless a constraint names
        # it; the inline reference is part of the column itself.
        op.execute("ALTER TABLE customers DROP COLUMN merged_into_id")
    else:
        op.drop_constraint(
            op.f("fk_customers_merged_into_id_customers"), "customers", type_="foreignkey"
        )
        op.drop_column("customers", "merged_into_id")
    op.drop_table("crm_settings")
    with op.batch_alter_table("webhook_ticket_references", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_ticket_references_ticket_id")
        batch_op.drop_index("uq_webhook_ticket_references_source_external")
    op.drop_table("webhook_ticket_references")
    op.drop_table("webhook_sources")
