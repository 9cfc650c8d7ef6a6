"""The append-only audit trail. Rows are hash-chained per entity and never updated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    occurred_at: Mapped[datetime]
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(BigIntKey)
    sequence: Mapped[int]
    action: Mapped[str] = mapped_column(String(60))
    field: Mapped[str | None] = mapped_column(String(80))
    old_value: Mapped[Any | None] = mapped_column(JSONDocument)
    new_value: Mapped[Any | None] = mapped_column(JSONDocument)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigIntKey)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    via: Mapped[str] = mapped_column(String(120))
    is_public: Mapped[bool] = mapped_column(default=False)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index(
            "uq_audit_events_entity_sequence", "entity_type", "entity_id", "sequence", unique=True
        ),
    )
