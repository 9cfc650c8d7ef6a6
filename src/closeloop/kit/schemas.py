"""Pydantic bases every feature's input schemas share."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    """An input that refuses unknown fields instead of silently dropping them."""

    model_config = ConfigDict(extra="forbid")


class PartialUpdate(Strict):
    """Only the fields present change; ``nullable_fields`` are the ones null clears."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _null_only_where_it_clears(self) -> Self:
        refused = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.nullable_fields
        )
        if refused:
            raise ValueError(f"{', '.join(refused)} cannot be null")
        return self

    def given(self) -> dict[str, Any]:
        """The fields present in the request, with their values."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}
