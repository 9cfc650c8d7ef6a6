"""Queries on remembered idempotent responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from closeloop.idempotency.models import IdempotencyRecord


def find(session: Session, principal_key: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal_key == principal_key, IdempotencyRecord.key == key
        )
    ).first()


def delete_older_than(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
