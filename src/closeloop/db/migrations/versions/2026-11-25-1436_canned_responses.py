"""Canned responses and macros: saved replies with placeholders and field actions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 14:36:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("owner_agent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.CheckConstraint("scope in ('personal', 'team', 'global')", name=op.f("ck_macros_scope")),
        sa.CheckConstraint(
            "(scope = 'personal' and owner_agent_id is not null and team_id is null)"
            " or (scope = 'team' and team_id is not null and owner_agent_id is null)"
            " or (scope = 'global' and owner_agent_id is null and team_id is null)",
            name=op.f("ck_macros_scope_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_agent_id"],
            ["agents.id"],
            name=op.f("fk_macros_owner_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_macros_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.create_index("ix_macros_scope_team_id", ["scope", "team_id"], unique=False)
        batch_op.create_index("ix_macros_owner_agent_id", ["owner_agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("macros", schema=None) as batch_op:
        batch_op.drop_index("ix_macros_owner_agent_id")
        batch_op.drop_index("ix_macros_scope_team_id")
    op.drop_table("macros")
