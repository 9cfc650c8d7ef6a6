"""Routing classifier: the trained models, their metrics, thresholds and blobs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 13:45:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "routing_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("algorithm", sa.String(length=100), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("metrics", _JSON, nullable=False),
        sa.Column("thresholds", _JSON, nullable=False),
        sa.Column("trained_at", _INSTANT, nullable=False),
        sa.Column("trained_on", _JSON, nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "field in ('type', 'priority', 'team')", name=op.f("ck_routing_models_field")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_models")),
    )
    with op.batch_alter_table("routing_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_models_field_active", ["field", "is_active", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("routing_models", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_models_field_active")

    op.drop_table("routing_models")
