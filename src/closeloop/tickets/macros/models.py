"""The macros table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, JSONDocument


class Macro(Base):
    """A canned response: reply text with placeholders, and field actions applied on send."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # {"status": ..., "pending_reason": ..., "priority": ..., "type": ..., "team_id": ...,
    #  "add_tags": [...]}: only the keys present act.
    actions: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    scope: Mapped[str] = mapped_column(String(10))
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_macros_scope_team_id", "scope", "team_id"),
        Index("ix_macros_owner_agent_id", "owner_agent_id"),
        CheckConstraint("scope in ('personal', 'team', 'global')", name="scope"),
        CheckConstraint(
            "(scope = 'personal' and owner_agent_id is not null and team_id is null)"
            " or (scope = 'team' and team_id is not null and owner_agent_id is null)"
            " or (scope = 'global' and owner_agent_id is null and team_id is null)",
            name="scope_owner",
        ),
    )
