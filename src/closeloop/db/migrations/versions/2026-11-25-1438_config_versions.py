"""Configuration versions: one token per configuration area, for per-process caches

Every change to the SLA settings (policies, calendars, their days) or to the routing rules
writes a new random token into its area's row in the same transaction; each process compares
the token with the one its cached rulebook was built at (``closeloop.db.config_versions``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 14:38:00
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "config_versions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_config_versions")),
    )
    for name in ("sla", "routing"):
        op.execute(
            table.insert().values(
                name=name, version=uuid.uuid4().hex, changed_at=sa.func.current_timestamp()
            )
        )


def downgrade() -> None:
    op.drop_table("config_versions")
