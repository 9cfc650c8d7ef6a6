"""Queries on the audit trail."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from closeloop.audit.models import AuditEvent


def chain_head(session: Session, entity_type: str, entity_id: int) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditEvent.sequence, AuditEvent.hash)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.sequence.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def events_for(
    session: Session,
    entity_type: str,
    entity_id: int,
    *,
    public_only: bool = False,
    after_sequence: int = 0,
    limit: int | None = None,
) -> Sequence[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == entity_id,
            AuditEvent.sequence > after_sequence,
        )
        .order_by(AuditEvent.sequence)
    )
    if public_only:
        query = query.where(AuditEvent.is_public.is_(True))
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def entity_keys(session: Session, entity_type: str | None = None) -> Sequence[tuple[str, int]]:
    query = select(AuditEvent.entity_type, AuditEvent.entity_id).distinct()
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    return [(row[0], row[1]) for row in session.execute(query)]
