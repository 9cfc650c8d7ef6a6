from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, BigIntKey, JSONDocument


class IdempotencyRecord(Base):
    """The first answer to a keyed request, stored in the same transaction as its effect."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    principal_key: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response_body: Mapped[Any] = mapped_column(JSONDocument)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("uq_idempotency_records_principal_key", "principal_key", "key", unique=True),
        Index("ix_idempotency_records_created_at", "created_at"),
    )
