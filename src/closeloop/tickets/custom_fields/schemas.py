"""Custom field definitions on the wire (shared by api/ and web/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from closeloop.kit.schemas import Strict
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import TicketType
from closeloop.tickets.models import CustomFieldDefinition

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Options = Annotated[list[Option], Field(max_length=200)]
Position = Annotated[int, Field(ge=0, le=10_000)]


class CustomFieldCreate(Strict):
    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    label_en: Label
    label_zh: Label | None = Field(None, description="Defaults to the English label.")
    field_type: FieldType
    ticket_type: TicketType | None = Field(None, description="None: tickets of every type.")
    options: Options = []
    is_required: bool = False
    position: Position = 0


class CustomFieldUpdate(Strict):
    """Only the fields present change. The key, the field type and the ticket type are fixed:
    tickets already carry values under them."""

    label_en: Label | None = None
    label_zh: Label | None = None
    options: Options | None = None
    is_required: bool | None = None
    position: Position | None = None
    is_active: bool | None = None


class CustomFieldRead(BaseModel):
    id: int
    key: str
    label_en: str
    label_zh: str
    field_type: FieldType
    ticket_type: TicketType | None
    options: list[str]
    is_required: bool
    position: int
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, definition: CustomFieldDefinition) -> CustomFieldRead:
        return cls(
            id=definition.id,
            key=definition.key,
            label_en=definition.label_en,
            label_zh=definition.label_zh,
            field_type=FieldType(definition.field_type),
            ticket_type=TicketType(definition.ticket_type) if definition.ticket_type else None,
            options=list(definition.options),
            is_required=definition.is_required,
            position=definition.position,
            is_active=definition.is_active,
            created_at=definition.created_at,
            updated_at=definition.updated_at,
        )
