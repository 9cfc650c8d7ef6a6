"""The organisation's CRM lookup settings (one row, edited by admins at runtime)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base, JSONDocument


class CrmSettings(Base):
    __tablename__ = "crm_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # e.g. https://crm.example.com/api/customers?email={email}&phone={phone}
    url_template: Mapped[str] = mapped_column(String(2000), default="")
    # Fernet token (channels.credentials) of the bearer token; never returned.
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=5.0)
    # Paths into the answer's JSON: "/data/0/level" (JSON pointer) or "data.0.level".
    tier_path: Mapped[str] = mapped_column(String(200), default="")
    # The CRM's values → our tiers, e.g. {"gold": "vip", "silver": "standard"}.
    tier_values: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    company_path: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]
