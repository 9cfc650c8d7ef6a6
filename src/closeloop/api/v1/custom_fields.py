"""Custom field definitions over JSON: agents read them, administrators change them."""

from __future__ import annotations

from fastapi import APIRouter

from closeloop.api.deps import CurrentPrincipal, Uow, Via
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.schemas import (
    CustomFieldCreate,
    CustomFieldRead,
    CustomFieldUpdate,
)
from closeloop.tickets.domain import TicketType

router = APIRouter(prefix="/custom-fields", tags=["custom fields"])


@router.get("", response_model=list[CustomFieldRead])
def list_custom_fields(
    uow: Uow,
    actor: CurrentPrincipal,
    ticket_type: TicketType | None = None,
    include_inactive: bool = False,
) -> list[CustomFieldRead]:
    """In display order; with ``ticket_type``, the fields tickets of that type carry."""
    definitions = custom_fields.list_custom_fields(
        uow, actor=actor, ticket_type=ticket_type, include_inactive=include_inactive
    )
    return [CustomFieldRead.of(d) for d in definitions]


@router.post("", status_code=201, response_model=CustomFieldRead)
def create_custom_field(
    data: CustomFieldCreate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CustomFieldRead:
    definition = custom_fields.create_custom_field(uow, data=data, actor=actor, via=via)
    uow.commit()
    return CustomFieldRead.of(definition)


@router.patch("/{field_id}", response_model=CustomFieldRead)
def update_custom_field(
    field_id: int, data: CustomFieldUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CustomFieldRead:
    """Change labels, options, required, position; ``is_active: false`` deactivates."""
    definition = custom_fields.update_custom_field(
        uow, field_id=field_id, data=data, actor=actor, via=via
    )
    uow.commit()
    return CustomFieldRead.of(definition)
