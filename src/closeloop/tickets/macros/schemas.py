"""Pydantic shapes of macros (shared by api/ and web/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, StringConstraints

from closeloop.kit.schemas import PartialUpdate, Strict
from closeloop.tickets.domain import PendingReason, Priority, TicketStatus, TicketType
from closeloop.tickets.macros.domain import MacroScope
from closeloop.tickets.macros.models import Macro

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MacroBody = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class MacroActions(Strict):
    """Field actions applied to the ticket when the macro is sent (only those given act)."""

    status: TicketStatus | None = None
    pending_reason: PendingReason | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    team_id: int | None = None
    add_tags: Annotated[list[Tag], Field(max_length=30)] = []

    @property
    def is_empty(self) -> bool:
        return not self.model_dump(exclude_defaults=True)


class MacroCreate(Strict):
    title: Title
    body: MacroBody = ""
    actions: MacroActions = MacroActions()
    scope: MacroScope = MacroScope.personal
    team_id: int | None = Field(None, description="The team of a team macro.")
    is_active: bool = True


class MacroUpdate(PartialUpdate):
    """The scope and the team stay; make a new macro to share it differently."""

    title: Title | None = None
    body: MacroBody | None = None
    actions: MacroActions | None = None
    is_active: bool | None = None

    nullable_fields: ClassVar[frozenset[str]] = frozenset()


class MacroRead(BaseModel):
    id: int
    title: str
    body: str
    actions: dict[str, Any]
    scope: MacroScope
    owner_agent_id: int | None
    team_id: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, macro: Macro) -> MacroRead:
        return cls(
            id=macro.id,
            title=macro.title,
            body=macro.body,
            actions=dict(macro.actions),
            scope=MacroScope(macro.scope),
            owner_agent_id=macro.owner_agent_id,
            team_id=macro.team_id,
            is_active=macro.is_active,
            created_at=macro.created_at,
            updated_at=macro.updated_at,
        )
