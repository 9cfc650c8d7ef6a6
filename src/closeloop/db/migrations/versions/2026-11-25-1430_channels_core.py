"""Channels: inbound message log (exactly-once), quarantine, email references, failing addresses

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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


def _key() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", _key(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(length=80), nullable=True),
        sa.Column("ticket_id", _key(), nullable=True),
        sa.Column("message_id", _key(), nullable=True),
        sa.Column("customer_id", _key(), nullable=True),
        sa.Column("sender", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("subject_key", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome in (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")",
            name=op.f("ck_inbound_messages_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_inbound_messages_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_inbound_messages_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_inbound_messages_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_inbound_messages_channel_external_id")
        ),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_messages_outcome_id", ["outcome", "id"], unique=False)
        batch_op.create_index(
            "ix_inbound_messages_sender_subject",
            ["sender", "subject_key", "received_at"],
            unique=False,
        )
        batch_op.create_index("ix_inbound_messages_ticket_id", ["ticket_id"], unique=False)
        batch_op.create_index("ix_inbound_messages_message_id", ["message_id"], unique=False)

    op.create_table(
        "email_references",
        sa.Column("id", _key(), nullable=False),
        sa.Column("message_id_header", sa.String(length=500), nullable=False),
        sa.Column("ticket_id", _key(), nullable=False),
        sa.Column("message_id", _key(), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "direction in ('in', 'out')", name=op.f("ck_email_references_direction")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_email_references_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_email_references_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_references")),
        sa.UniqueConstraint(
            "message_id_header", name=op.f("uq_email_references_message_id_header")
        ),
    )
    with op.batch_alter_table("email_references", schema=None) as batch_op:
        batch_op.create_index("ix_email_references_ticket_id", ["ticket_id", "id"], unique=False)

    op.create_table(
        "channel_address_failures",
        sa.Column("id", _key(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("customer_id", _key(), nullable=True),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_channel_address_failures_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_address_failures")),
        sa.UniqueConstraint("address", name=op.f("uq_channel_address_failures_address")),
    )


def downgrade() -> None:
    op.drop_table("channel_address_failures")
    with op.batch_alter_table("email_references", schema=None) as batch_op:
        batch_op.drop_index("ix_email_references_ticket_id")
    op.drop_table("email_references")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_messages_message_id")
        batch_op.drop_index("ix_inbound_messages_ticket_id")
        batch_op.drop_index("ix_inbound_messages_sender_subject")
        batch_op.drop_index("ix_inbound_messages_outcome_id")
    op.drop_table("inbound_messages")
