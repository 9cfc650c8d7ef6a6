"""The table of saved ticket views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, JSONDocument


class SavedView(Base):
    """An agent's preset of the ticket list: private (``team_id`` null) or shared with the
    members of one team, who can open it but not change it."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    columns: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    sort: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_saved_views_owner_id", "owner_id", "id"),
        Index("ix_saved_views_team_id", "team_id", "id"),
    )
