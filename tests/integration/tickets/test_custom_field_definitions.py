"""Administering custom field definitions, and tickets obeying them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from tests.builders import (
    customer_principal,
    make_agent,
    make_custom_field,
    make_customer,
    principal_of,
)

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied, ValidationFailed
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.custom_fields.schemas import CustomFieldCreate, CustomFieldUpdate
from closeloop.tickets.domain import TicketType
from closeloop.tickets.errors import (
    CustomFieldChangeDenied,
    CustomFieldKeyTaken,
    CustomFieldNotFound,
)
from closeloop.tickets.models import CustomFieldDefinition
from closeloop.tickets.schemas import TicketCreate


def _rows(uow: UnitOfWork, definition: CustomFieldDefinition) -> list[tuple[str, Any, Any, Any]]:
    rows = uow.session.execute(
        select(AuditEvent.action, AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value)
        .where(AuditEvent.entity_type == "custom_field", AuditEvent.entity_id == definition.id)
        .order_by(AuditEvent.sequence)
    )
    return [tuple(row) for row in rows]


def _create(uow: UnitOfWork, **fields: Any) -> CustomFieldDefinition:
    data = CustomFieldCreate.model_validate({"label_en": "Region", "field_type": "text", **fields})
    return custom_fields.create_custom_field(uow, data=data, actor=SYSTEM, via="test")


def test_admin_creates_a_definition(uow: UnitOfWork) -> None:
    admin = principal_of(uow, make_agent(uow, role=Role.admin))
    data = CustomFieldCreate(
        key="region",
        label_en="Region",
        field_type=FieldType.select,
        ticket_type=TicketType.fault,
        options=["华东", "华北"],
        is_required=True,
        position=2,
    )

    definition = custom_fields.create_custom_field(uow, data=data, actor=admin, via="test")

    assert (definition.key, definition.ticket_type, definition.field_type) == (
        "region",
        "fault",
        "select",
    )
    assert (definition.label_en, definition.label_zh) == ("Region", "Region")
    assert (definition.options, definition.is_required, definition.position) == (
        ["华东", "华北"],
        True,
        2,
    )
    assert definition.is_active is True
    assert _rows(uow, definition) == [
        ("custom_field.created", "key", None, "region"),
        ("custom_field.created", "ticket_type", None, "fault"),
        ("custom_field.created", "field_type", None, "select"),
        ("custom_field.created", "label_en", None, "Region"),
        ("custom_field.created", "label_zh", None, "Region"),
        ("custom_field.created", "options", None, ["华东", "华北"]),
        ("custom_field.created", "is_required", None, True),
        ("custom_field.created", "position", None, 2),
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"key": "Region", "field_type": "text"}, [("key", "invalid_key")]),
        ({"key": "region", "field_type": "select"}, [("options", "options_required")]),
        (
            {"key": "region", "field_type": "select", "options": ["a", "a", ""]},
            [("options", "blank_option"), ("options", "duplicate_option")],
        ),
        (
            {"key": "note", "field_type": "text", "options": ["a"]},
            [("options", "options_not_allowed")],
        ),
    ],
    ids=["key_case", "no_options_case", "bad_options_case", "options_on_text_case"],
)
def test_invalid_definition_is_refused(
    uow: UnitOfWork, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _create(uow, **fields)

    assert [(e["field"], e["code"]) for e in refused.value.errors] == expected
    assert uow.session.scalars(select(CustomFieldDefinition)).all() == []


@pytest.mark.parametrize(
    ("existing_type", "new_type", "taken"),
    [
        ("fault", "fault", True),
        ("fault", "inquiry", False),
        (None, "fault", True),
        ("fault", None, True),
        (None, None, True),
    ],
    ids=["same_type", "other_type", "shared_then_typed", "typed_then_shared", "both_shared"],
)
def test_key_is_unique_among_fields_of_the_same_tickets(
    uow: UnitOfWork, existing_type: str | None, new_type: str | None, taken: bool
) -> None:
    _create(uow, key="region", ticket_type=existing_type)

    if taken:
        with pytest.raises(CustomFieldKeyTaken):
            _create(uow, key="region", ticket_type=new_type)
    else:
        assert _create(uow, key="region", ticket_type=new_type).ticket_type == new_type

    assert len(uow.session.scalars(select(CustomFieldDefinition)).all()) == (1 if taken else 2)


def test_deactivated_field_keeps_its_key(uow: UnitOfWork) -> None:
    definition = _create(uow, key="region")
    custom_fields.deactivate_custom_field(uow, field_id=definition.id, actor=SYSTEM, via="test")

    with pytest.raises(CustomFieldKeyTaken):
        _create(uow, key="region")


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
def test_only_admins_change_definitions(uow: UnitOfWork, role: Role) -> None:
    actor = principal_of(uow, make_agent(uow, role=role))
    definition = _create(uow, key="region")

    with pytest.raises(CustomFieldChangeDenied):
        custom_fields.create_custom_field(
            uow,
            data=CustomFieldCreate(key="other", label_en="Other", field_type=FieldType.text),
            actor=actor,
            via="test",
        )
    with pytest.raises(CustomFieldChangeDenied):
        custom_fields.update_custom_field(
            uow, field_id=definition.id, data=CustomFieldUpdate(label_en="X"), actor=actor, via="t"
        )

    assert definition.label_en == "Region"
    assert len(_rows(uow, definition)) == 6


def test_update_changes_only_what_is_given(uow: UnitOfWork) -> None:
    definition = _create(uow, key="region", field_type="select", options=["north"])

    updated = custom_fields.update_custom_field(
        uow,
        field_id=definition.id,
        data=CustomFieldUpdate(label_zh="区域", options=["north", "south"], is_required=True),
        actor=SYSTEM,
        via="test",
    )

    assert updated is definition
    assert (definition.label_en, definition.label_zh) == ("Region", "区域")
    assert (definition.options, definition.is_required) == (["north", "south"], True)
    assert _rows(uow, definition)[-3:] == [
        ("custom_field.updated", "label_zh", "Region", "区域"),
        ("custom_field.updated", "options", ["north"], ["north", "south"]),
        ("custom_field.updated", "is_required", False, True),
    ]


def test_update_validates_options_and_keeps_the_key(uow: UnitOfWork) -> None:
    definition = _create(uow, key="region", field_type="select", options=["north"])

    with pytest.raises(ValidationFailed):
        custom_fields.update_custom_field(
            uow,
            field_id=definition.id,
            data=CustomFieldUpdate(options=[]),
            actor=SYSTEM,
            via="test",
        )
    with pytest.raises(ValidationError):
        CustomFieldUpdate.model_validate({"key": "renamed"})
    with pytest.raises(CustomFieldNotFound):
        custom_fields.update_custom_field(
            uow, field_id=definition.id + 1000, data=CustomFieldUpdate(), actor=SYSTEM, via="test"
        )

    assert definition.options == ["north"]


def test_agents_list_definitions_for_a_ticket_type(uow: UnitOfWork) -> None:
    agent = principal_of(uow, make_agent(uow))
    shared = make_custom_field(uow, key="contract")
    fault = make_custom_field(uow, key="device", ticket_type=TicketType.fault)
    make_custom_field(uow, key="budget", ticket_type=TicketType.request)
    retired = make_custom_field(uow, key="legacy", ticket_type=TicketType.fault)
    custom_fields.deactivate_custom_field(uow, field_id=retired.id, actor=SYSTEM, via="test")

    listed = custom_fields.list_custom_fields(uow, actor=agent, ticket_type=TicketType.fault)
    everything = custom_fields.list_custom_fields(uow, actor=agent, include_inactive=True)

    assert [d.key for d in listed] == [shared.key, fault.key]
    assert [d.key for d in everything] == ["contract", "device", "budget", "legacy"]
    with pytest.raises(PermissionDenied):
        custom_fields.list_custom_fields(uow, actor=customer_principal(make_customer(uow)))


def test_tickets_follow_active_definitions_only(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    definition = make_custom_field(
        uow, key="device", ticket_type=TicketType.fault, is_required=True
    )
    data = TicketCreate(subject="Broken", type=TicketType.fault, requester_id=requester.id)

    with pytest.raises(ValidationFailed) as refused:
        tickets.open_ticket(uow, data=data, actor=SYSTEM, via="test")
    custom_fields.deactivate_custom_field(uow, field_id=definition.id, actor=SYSTEM, via="test")
    ticket = tickets.open_ticket(uow, data=data, actor=SYSTEM, via="test")

    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("custom_fields.device", "required")
    ]
    assert ticket.custom_fields == {}
