"""Saved views on the wire (web forms and any later API)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from closeloop.kit.schemas import PartialUpdate, Strict
from closeloop.tickets.saved_views.domain import DEFAULT_COLUMNS, DEFAULT_SORT

ViewName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class SavedViewCreate(Strict):
    name: ViewName
    team_id: int | None = Field(None, description="Share with this team; None keeps it private.")
    filters: dict[str, Any] = {}
    columns: list[str] = list(DEFAULT_COLUMNS)
    sort: str = DEFAULT_SORT


class SavedViewUpdate(PartialUpdate):
    """Only the fields present change; ``team_id`` null makes the view private again."""

    nullable_fields = frozenset({"team_id"})

    name: ViewName | None = None
    team_id: int | None = None
    filters: dict[str, Any] | None = None
    columns: list[str] | None = None
    sort: str | None = None
