"""Deliveries record when a send began, so an interrupted send is known after a crash

``notification_deliveries.send_started_at``: set (and committed) just before a message goes to
the SMTP server or the bot, cleared when the outcome is recorded. A pending delivery that still
has it was being sent when its worker died: the message may have arrived already.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:00:00.000000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_column("send_started_at")
