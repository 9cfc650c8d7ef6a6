"""Routing: rules, team strategies, agent availability and shifts, decisions, transfers, triage

Also ``routing_feedback``: agents' corrections of what routing decided, which the classifier
reads for retraining.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:30:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("match", sa.String(length=10), nullable=False),
        sa.Column("conditions", _JSON, nullable=False),
        sa.Column("actions", _JSON, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.CheckConstraint("match in ('all', 'any')", name=op.f("ck_routing_rules_match")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index("ix_routing_rules_position", ["position", "id"], unique=False)

    op.create_table(
        "agent_availability",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("max_concurrent", sa.SmallInteger(), nullable=False),
        sa.Column("last_assigned_at", _INSTANT, nullable=True),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.CheckConstraint(
            "status in ('online', 'away', 'offline')", name=op.f("ck_agent_availability_status")
        ),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_agent_availability_capacity")),
        sa.CheckConstraint(
            "max_concurrent >= 1", name=op.f("ck_agent_availability_max_concurrent")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_availability_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_availability")),
    )
    op.create_table(
        "agent_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.CheckConstraint("weekday between 0 and 6", name=op.f("ck_agent_shifts_weekday")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_shifts_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_shifts")),
    )
    with op.batch_alter_table("agent_shifts", schema=None) as batch_op:
        batch_op.create_index("ix_agent_shifts_agent_id", ["agent_id", "weekday"], unique=False)

    op.create_table(
        "routing_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ping_pong_threshold", sa.SmallInteger(), nullable=False),
        sa.Column("escalation_team_id", sa.Integer(), nullable=True),
        sa.Column("move_ping_pong", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.CheckConstraint("ping_pong_threshold >= 0", name=op.f("ck_routing_settings_threshold")),
        sa.ForeignKeyConstraint(
            ["escalation_team_id"],
            ["teams.id"],
            name=op.f("fk_routing_settings_escalation_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_settings")),
    )
    op.create_table(
        "team_routing",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("is_triage_team", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.CheckConstraint(
            "strategy in ('manual', 'round_robin', 'least_load', 'skills')",
            name=op.f("ck_team_routing_strategy"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_routing_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_routing")),
    )
    op.create_table(
        "routing_decisions",
        sa.Column("id", _BIG_KEY, nullable=False),
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.CheckConstraint(
            "field in ('type', 'priority', 'team', 'assignee')",
            name=op.f("ck_routing_decisions_field"),
        ),
        sa.CheckConstraint(
            "source in ('rule', 'model', 'manual', 'assigner')",
            name=op.f("ck_routing_decisions_source"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["routing_rules.id"],
            name=op.f("fk_routing_decisions_rule_id_routing_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_routing_decisions_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decisions")),
    )
    with op.batch_alter_table("routing_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_decisions_ticket_id", ["ticket_id", "field", "id"], unique=False
        )

    op.create_table(
        "routing_feedback",
        sa.Column("id", _BIG_KEY, nullable=False),
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("predicted", sa.String(length=200), nullable=True),
        sa.Column("corrected", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("at", _INSTANT, nullable=False),
        sa.CheckConstraint(
            "field in ('type', 'priority', 'team')", name=op.f("ck_routing_feedback_field")
        ),
        sa.CheckConstraint(
            "source in ('rule', 'model', 'triage')", name=op.f("ck_routing_feedback_source")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_routing_feedback_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["routing_rules.id"],
            name=op.f("fk_routing_feedback_rule_id_routing_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_routing_feedback_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_feedback")),
    )
    with op.batch_alter_table("routing_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_routing_feedback_at", ["at", "id"], unique=False)
        batch_op.create_index("ix_routing_feedback_ticket_id", ["ticket_id"], unique=False)

    op.create_table(
        "ticket_routing",
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("in_triage", sa.Boolean(), nullable=False),
        sa.Column("triage_reason", sa.String(length=200), nullable=False),
        sa.Column("triaged_at", _INSTANT, nullable=True),
        sa.Column("required_skills", _JSON, nullable=False),
        sa.Column("ping_pong_at", _INSTANT, nullable=True),
        sa.Column("suggested_team_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", _INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["suggested_team_id"],
            ["teams.id"],
            name=op.f("fk_ticket_routing_suggested_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_routing_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_routing")),
    )
    with op.batch_alter_table("ticket_routing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_routing_in_triage", ["in_triage", "triaged_at"], unique=False
        )

    op.create_table(
        "ticket_transfers",
        sa.Column("id", _BIG_KEY, nullable=False),
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("from_team_id", sa.Integer(), nullable=True),
        sa.Column("to_team_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["from_team_id"],
            ["teams.id"],
            name=op.f("fk_ticket_transfers_from_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_transfers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_team_id"],
            ["teams.id"],
            name=op.f("fk_ticket_transfers_to_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_transfers")),
    )
    with op.batch_alter_table("ticket_transfers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_transfers_ticket_id", ["ticket_id", "at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_transfers_ticket_id")

    op.drop_table("ticket_transfers")
    with op.batch_alter_table("ticket_routing", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_routing_in_triage")

    op.drop_table("ticket_routing")
    with op.batch_alter_table("routing_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_feedback_ticket_id")
        batch_op.drop_index("ix_routing_feedback_at")

    op.drop_table("routing_feedback")
    with op.batch_alter_table("routing_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_decisions_ticket_id")

    op.drop_table("routing_decisions")
    op.drop_table("team_routing")
    op.drop_table("routing_settings")
    with op.batch_alter_table("agent_shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_shifts_agent_id")

    op.drop_table("agent_shifts")
    op.drop_table("agent_availability")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_rules_position")

    op.drop_table("routing_rules")
