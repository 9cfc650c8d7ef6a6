"""Queries on custom field definitions (the values live on the ticket)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from closeloop.tickets.models import CustomFieldDefinition


def get(session: Session, field_id: int) -> CustomFieldDefinition | None:
    return session.get(CustomFieldDefinition, field_id)


def definitions(
    session: Session, *, ticket_type: str | None, include_inactive: bool
) -> Sequence[CustomFieldDefinition]:
    """Every definition, or those applying to ``ticket_type`` (its own and the shared ones)."""
    query = select(CustomFieldDefinition)
    if ticket_type is not None:
        query = query.where(
            or_(
                CustomFieldDefinition.ticket_type.is_(None),
                CustomFieldDefinition.ticket_type == ticket_type,
            )
        )
    if not include_inactive:
        query = query.where(CustomFieldDefinition.is_active.is_(True))
    return session.scalars(
        query.order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
    ).all()


def same_key(
    session: Session, *, key: str, ticket_type: str | None
) -> CustomFieldDefinition | None:
    """A definition with ``key`` that would apply to the same tickets (active or not).

    A shared definition (no type) overlaps every type, so its key must be free everywhere; the
    unique index cannot see this, because NULL types never collide in SQL.
    """
    query = select(CustomFieldDefinition).where(CustomFieldDefinition.key == key)
    if ticket_type is not None:
        query = query.where(
            or_(
                CustomFieldDefinition.ticket_type.is_(None),
                CustomFieldDefinition.ticket_type == ticket_type,
            )
        )
    return session.scalars(query.order_by(CustomFieldDefinition.id)).first()
