"""SLA engine: business calendars, policies, targets, ladders, ticket clocks and firings

Also the SLA summary of each ticket (``tickets.sla_due_at``, ``tickets.sla_state``) that the
ticket list sorts and filters by.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KINDS = "kind in ('first_response', 'next_response', 'resolution')"


def upgrade() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekly_hours", _JSON, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_business_calendars_name")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("hours", _JSON, nullable=True),
        sa.CheckConstraint(
            "kind in ('holiday', 'makeup_workday')", name=op.f("ck_calendar_days_kind")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_calendar_days_calendar_id_business_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_days")),
    )
    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.create_index(
            "uq_calendar_days_calendar_date", ["calendar_id", "date"], unique=True
        )

    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("conditions", _JSON, nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("paused_statuses", _JSON, nullable=False),
        sa.Column("warning_fractions", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_sla_policies_calendar_id_business_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index("ix_sla_policies_position", ["position", "id"], unique=False)

    op.create_table(
        "sla_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("business_time", sa.Boolean(), nullable=False),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_sla_targets_minutes_positive")),
        sa.CheckConstraint(_KINDS, name=op.f("ck_sla_targets_target_kind")),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_targets_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_targets")),
    )
    with op.batch_alter_table("sla_targets", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sla_targets_policy_priority_kind", ["policy_id", "priority", "kind"], unique=True
        )

    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at_fraction", sa.Float(), nullable=True),
        sa.Column("after_breach_minutes", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(at_fraction is null) <> (after_breach_minutes is null)",
            name=op.f("ck_escalation_steps_one_trigger"),
        ),
        sa.CheckConstraint(
            "action in ('notify_assignee', 'notify_team_lead', 'notify_manager', "
            "'raise_priority', 'reassign_team')",
            name=op.f("ck_escalation_steps_action"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_escalation_steps_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_escalation_steps_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
    )
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.create_index(
            "uq_escalation_steps_policy_kind_position",
            ["policy_id", "kind", "position"],
            unique=True,
        )

    op.create_table(
        "ticket_sla_clocks",
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("business_time", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warning_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_seconds", sa.BigInteger(), nullable=False),
        sa.Column("paused_seconds", sa.BigInteger(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_priority", sa.String(length=2), nullable=False),
        sa.Column("ticket_team_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_KINDS, name=op.f("ck_ticket_sla_clocks_target_kind")),
        sa.CheckConstraint(
            "state in ('running', 'paused', 'warning', 'met', 'breached')",
            name=op.f("ck_ticket_sla_clocks_state"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_ticket_sla_clocks_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_sla_clocks_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "kind", name=op.f("pk_ticket_sla_clocks")),
    )
    with op.batch_alter_table("ticket_sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_sla_clocks_next_check_at", ["next_check_at"], unique=False)
        batch_op.create_index(
            "ix_ticket_sla_clocks_ticket_created_at", ["ticket_created_at"], unique=False
        )

    op.create_table(
        "sla_escalation_firings",
        sa.Column("id", _BIG_KEY, nullable=False),
        sa.Column("ticket_id", _BIG_KEY, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome in ('done', 'skipped', 'expired')",
            name=op.f("ck_sla_escalation_firings_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_escalation_firings_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_escalation_firings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_escalation_firings")),
    )
    with op.batch_alter_table("sla_escalation_firings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sla_escalation_firings_step",
            ["ticket_id", "kind", "cycle", "step_position"],
            unique=True,
        )

    # Nullable columns and indexes are added in place, also on SQLite: rebuilding the tickets
    # table would drop it, and its foreign keys would cascade.
    with op.batch_alter_table("tickets", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_state", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_tickets_sla_due_at_id", ["sla_due_at", "id"], unique=False)
        batch_op.create_index(
            "ix_tickets_sla_state_due_at", ["sla_state", "sla_due_at", "id"], unique=False
        )


def downgrade() -> None:
    # In place too: SQLite 3.35+ drops a column without rebuilding the table.
    with op.batch_alter_table("tickets", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_tickets_sla_state_due_at")
        batch_op.drop_index("ix_tickets_sla_due_at_id")
        batch_op.drop_column("sla_state")
        batch_op.drop_column("sla_due_at")

    with op.batch_alter_table("sla_escalation_firings", schema=None) as batch_op:
        batch_op.drop_index("uq_sla_escalation_firings_step")
    op.drop_table("sla_escalation_firings")

    with op.batch_alter_table("ticket_sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_sla_clocks_ticket_created_at")
        batch_op.drop_index("ix_ticket_sla_clocks_next_check_at")
    op.drop_table("ticket_sla_clocks")

    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_index("uq_escalation_steps_policy_kind_position")
    op.drop_table("escalation_steps")

    with op.batch_alter_table("sla_targets", schema=None) as batch_op:
        batch_op.drop_index("uq_sla_targets_policy_priority_kind")
    op.drop_table("sla_targets")

    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_policies_position")
    op.drop_table("sla_policies")

    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.drop_index("uq_calendar_days_calendar_date")
    op.drop_table("calendar_days")

    op.drop_table("business_calendars")
