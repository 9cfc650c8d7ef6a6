"""Public web form settings: none stored (a no-op revision)

The web form needs no table: its limits are server settings (CLOSELOOP_WEBFORM_TICKETS_PER_*,
CLOSELOOP_PORTAL_REPLIES_PER_TICKET), the team and type come from the form's address
(``/forms/new?team=<id>&type=<type>``) and the per-type fields are the custom field
definitions. The revision keeps its slot in the chain.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 14:37:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
