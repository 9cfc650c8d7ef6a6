"""Saved ticket views of the agent workspace

``saved_views``: an agent's preset of the ticket list (filters, columns, sort), private or shared
with one team. Also two indexes on ``tickets`` for the agents' views: (assignee, status, SLA due)
for "my open tickets", ``resolved_at`` for "recently resolved"; on PostgreSQL, statistics on
how status and SLA state go together.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 14:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filters", _JSON, nullable=False),
        sa.Column("columns", _JSON, nullable=False),
        sa.Column("sort", sa.String(length=20), nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["agents.id"],
            name=op.f("fk_saved_views_owner_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_saved_views_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index("ix_saved_views_owner_id", ["owner_id", "id"], unique=False)
        batch_op.create_index("ix_saved_views_team_id", ["team_id", "id"], unique=False)
    # Plain CREATE INDEX (no batch): SQLite need not copy the tickets table for them.
    op.create_index(
        "ix_tickets_assignee_status_due",
        "tickets",
        ["assignee_id", "status", "sla_due_at", "id"],
        unique=False,
    )
    op.create_index("ix_tickets_resolved_at_id", "tickets", ["resolved_at", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Every ticket with a running SLA clock is open: without knowing that, PostgreSQL takes
        # "open and overdue" for a few hundred rows and sorts them all (40 ms on 1M tickets)
        # instead of walking the SLA index and stopping at the page end (0.1 ms).
        op.execute(
            "CREATE STATISTICS IF NOT EXISTS st_tickets_status_sla_state (dependencies, mcv) "
            "ON status, sla_state FROM tickets"
        )
        op.execute("ANALYZE tickets")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_tickets_status_sla_state")
    op.drop_index("ix_tickets_resolved_at_id", table_name="tickets")
    op.drop_index("ix_tickets_assignee_status_due", table_name="tickets")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_views_team_id")
        batch_op.drop_index("ix_saved_views_owner_id")
    op.drop_table("saved_views")
