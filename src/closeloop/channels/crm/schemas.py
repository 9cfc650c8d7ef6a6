"""Pydantic shapes of the CRM lookup settings and of a test lookup."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, Field, SecretStr, StringConstraints, model_validator

from closeloop.accounts.domain import CustomerTier
from closeloop.channels.crm.models import CrmSettings
from closeloop.kit.schemas import PartialUpdate, Strict

Template = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Path = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
TierKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CrmSettingsRead(BaseModel):
    is_enabled: bool
    url_template: str
    has_token: bool = Field(description="Whether a bearer token is set; it is never shown.")
    timeout_seconds: float
    tier_path: str
    tier_values: dict[str, str]
    company_path: str
    updated_at: datetime | None

    @classmethod
    def of(cls, row: CrmSettings) -> CrmSettingsRead:
        return cls(
            is_enabled=row.is_enabled,
            url_template=row.url_template,
            has_token=row.token_encrypted is not None,
            timeout_seconds=row.timeout_seconds,
            tier_path=row.tier_path,
            tier_values=dict(row.tier_values),
            company_path=row.company_path,
            updated_at=row.updated_at,
        )


class CrmSettingsUpdate(PartialUpdate):
    """Only the fields sent change; ``"token": null`` removes the bearer token."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"token"})

    is_enabled: bool | None = None
    url_template: Template | None = Field(
        None,
        description="e.g. https://crm.example.com/api/customers?email={email}&phone={phone}; "
        "placeholders {email}, {phone}, {external_id}, {name} are URL-encoded.",
    )
    token: SecretStr | None = Field(None, description="Sent as `Authorization: Bearer …`.")
    timeout_seconds: float | None = Field(None, ge=0.5, le=60)
    tier_path: Path | None = Field(None, description="JSON pointer (/data/0/level) or data.0.level")
    tier_values: dict[TierKey, CustomerTier] | None = Field(
        None, description='The CRM\'s tier names → ours, e.g. {"gold": "vip"}.', max_length=50
    )
    company_path: Path | None = None


class CrmTestLookup(Strict):
    email: Value | None = None
    phone: Value | None = None
    external_id: Value | None = None
    name: Value | None = None

    @model_validator(mode="after")
    def _something_to_look_up(self) -> Self:
        if not (self.email or self.phone or self.external_id):
            raise ValueError("give at least one of email, phone or external_id")
        return self


class CrmTestResult(BaseModel):
    """What the CRM answered for the test values, and what closeloop would take from it."""

    url: str
    status_code: int | None
    found: bool
    tier: str | None
    raw_tier: str | None
    company: str | None
    error: str | None
    answer: Any = Field(None, description="The CRM's JSON, to find the paths in.")
