"""Pydantic shapes of the inbound pipeline on the wire (admins' quarantine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from closeloop.channels.base import IngestOutcome, IngestResult
from closeloop.channels.models import InboundRecord


class InboundRead(BaseModel):
    id: int
    channel: str
    external_id: str
    outcome: str
    reason: str | None = Field(None, description="Why it was not taken, in the reader's language.")
    reason_code: str | None
    sender: str = Field(description='"<identity kind>:<value>", e.g. "email:li.lei@example.cn".')
    subject: str
    ticket_id: int | None
    message_id: int | None
    customer_id: int | None
    received_at: datetime
    created_at: datetime
    has_raw: bool
    attachments: list[str] = Field(description="File names of the message's attachments.")

    @classmethod
    def of(cls, row: InboundRecord, locale: str) -> InboundRead:
        details: dict[str, Any] = row.details or {}
        texts = details.get("reason_text") or {}
        snapshot = details.get("message") or {}
        return cls(
            id=row.id,
            channel=row.channel,
            external_id=row.external_id,
            outcome=row.outcome,
            reason=texts.get(locale) or row.reason,
            reason_code=row.reason_code,
            sender=row.sender,
            subject=row.subject,
            ticket_id=row.ticket_id,
            message_id=row.message_id,
            customer_id=row.customer_id,
            received_at=row.received_at,
            created_at=row.created_at,
            has_raw=row.raw_sha256 is not None,
            attachments=[a.get("filename", "") for a in snapshot.get("attachments", [])],
        )


class InboundPage(BaseModel):
    items: list[InboundRead]
    next_cursor: str | None


class IngestResultRead(BaseModel):
    outcome: IngestOutcome
    ticket_id: int | None
    message_id: int | None
    customer_id: int | None
    reason: str | None

    @classmethod
    def of(cls, result: IngestResult) -> IngestResultRead:
        return cls(
            outcome=result.outcome,
            ticket_id=result.ticket_id,
            message_id=result.message_id,
            customer_id=result.customer_id,
            reason=result.reason,
        )
