"""Managing custom field definitions: administrators change them, every agent reads them.

A key is unique among the definitions that apply to the same tickets, active or not: tickets keep
their values under the key, so a deactivated field is reactivated rather than redefined. The key,
the field type and the ticket type never change for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.tickets.custom_fields import repository
from closeloop.tickets.custom_fields.domain import validate_definition
from closeloop.tickets.custom_fields.schemas import CustomFieldCreate, CustomFieldUpdate
from closeloop.tickets.domain import TicketType
from closeloop.tickets.errors import (
    CustomFieldChangeDenied,
    CustomFieldKeyTaken,
    CustomFieldNotFound,
)
from closeloop.tickets.models import CustomFieldDefinition

ENTITY = "custom_field"
_CHANGEABLE = ("label_en", "label_zh", "options", "is_required", "position", "is_active")


def list_custom_fields(
    uow: UnitOfWork,
    *,
    actor: Principal,
    ticket_type: TicketType | None = None,
    include_inactive: bool = False,
) -> Sequence[CustomFieldDefinition]:
    """In display order; with ``ticket_type``, the fields tickets of that type carry."""
    if not (actor.is_agent or actor.is_admin):
        raise PermissionDenied()
    return repository.definitions(
        uow.session,
        ticket_type=ticket_type.value if ticket_type else None,
        include_inactive=include_inactive,
    )


def create_custom_field(
    uow: UnitOfWork, *, data: CustomFieldCreate, actor: Principal, via: str
) -> CustomFieldDefinition:
    _check_admin(actor)
    validate_definition(data.field_type, data.options, key=data.key)
    ticket_type = data.ticket_type.value if data.ticket_type else None
    if repository.same_key(uow.session, key=data.key, ticket_type=ticket_type) is not None:
        raise CustomFieldKeyTaken(key=data.key)
    now = uow.clock.now()
    definition = CustomFieldDefinition(
        ticket_type=ticket_type,
        key=data.key,
        label_en=data.label_en,
        label_zh=data.label_zh or data.label_en,
        field_type=data.field_type.value,
        options=list(data.options),
        is_required=data.is_required,
        position=data.position,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(definition)
    uow.session.flush()
    initial = {
        "key": definition.key,
        "ticket_type": definition.ticket_type,
        "field_type": definition.field_type,
        "label_en": definition.label_en,
        "label_zh": definition.label_zh,
        "options": list(definition.options) or None,
        "is_required": definition.is_required,
        "position": definition.position,
    }
    _record(
        uow,
        definition,
        action="custom_field.created",
        actor=actor,
        via=via,
        changes=[Change(name, None, value) for name, value in initial.items() if value is not None],
        new_entity=True,
    )
    return definition


def update_custom_field(
    uow: UnitOfWork, *, field_id: int, data: CustomFieldUpdate, actor: Principal, via: str
) -> CustomFieldDefinition:
    """Change labels, options, whether it is required, its position, or (de)activate it."""
    _check_admin(actor)
    definition = repository.get(uow.session, field_id)
    if definition is None:
        raise CustomFieldNotFound(field_id=field_id)
    if data.options is not None:
        validate_definition(definition.field_type, data.options)
    changes: list[Change] = []
    for name in _CHANGEABLE:
        value = getattr(data, name)
        if name not in data.model_fields_set or value is None:
            continue
        if isinstance(value, list):
            value = list(value)
        old = getattr(definition, name)
        if old != value:
            changes.append(Change(name, list(old) if isinstance(old, list) else old, value))
            setattr(definition, name, value)
    if not changes:
        return definition
    definition.updated_at = uow.clock.now()
    uow.session.flush()
    _record(uow, definition, action="custom_field.updated", actor=actor, via=via, changes=changes)
    return definition


def deactivate_custom_field(
    uow: UnitOfWork, *, field_id: int, actor: Principal, via: str
) -> CustomFieldDefinition:
    """New and changed tickets stop carrying the field; stored values stay on the tickets."""
    return update_custom_field(
        uow, field_id=field_id, data=CustomFieldUpdate(is_active=False), actor=actor, via=via
    )


def _check_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise CustomFieldChangeDenied()


def _record(
    uow: UnitOfWork,
    definition: CustomFieldDefinition,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=definition.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )
