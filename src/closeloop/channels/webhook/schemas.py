"""Pydantic shapes of webhook intake (what senders post) and of its sources (what admins see).

Inputs refuse unknown fields, so a misspelt field shows as a 422 instead of silently vanishing.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from closeloop.channels.webhook.models import WebhookSource
from closeloop.kit.schemas import PartialUpdate, Strict

INTAKE_PATH = "/api/v1/channels/webhook/{slug}"
MAX_ATTACHMENTS = 10
DEFAULT_REPLAY_WINDOW = 300


class WebhookChannel(enum.StrEnum):
    """The ticket channels a webhook source may speak for (``tickets.domain.Channel``)."""

    api = "api"
    phone = "phone"
    chat = "chat"
    web = "web"


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
# At most 63 characters, so "<slug>:<customer external id>" fits an identity (128).
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
ReplayWindow = Annotated[int, Field(ge=30, le=86_400, description="Seconds; default 300.")]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
IdentityText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)
]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
ContentType = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+(?:\s*;.*)?$"
    ),
]


def _strict_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("base64 text expected")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("not valid base64 (RFC 4648, standard alphabet)") from error


Base64Content = Annotated[bytes, BeforeValidator(_strict_base64)]


# --- sources (administrators) -------------------------------------------------------------


class SourceCreate(Strict):
    name: Name
    slug: Slug = Field(description="The address: /api/v1/channels/webhook/<slug>. Fixed.")
    channel: WebhookChannel = WebhookChannel.api
    team_id: int | None = Field(None, description="The team new tickets go to (else routing).")
    is_active: bool = True
    replay_window_seconds: ReplayWindow = DEFAULT_REPLAY_WINDOW


class SourceUpdate(PartialUpdate):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"team_id"})

    name: Name | None = None
    channel: WebhookChannel | None = None
    team_id: int | None = None
    is_active: bool | None = None
    replay_window_seconds: ReplayWindow | None = None


class SecretRotation(Strict):
    keep_previous_seconds: int = Field(
        86_400,
        ge=0,
        le=7 * 86_400,
        description="How long the old secret keeps working beside the new one (0: not at all).",
    )


class SourceRead(BaseModel):
    """A source as admins see it: never its secret."""

    id: int
    name: str
    slug: str
    url_path: str
    channel: WebhookChannel
    team_id: int | None
    is_active: bool
    replay_window_seconds: int
    previous_secret_expires_at: datetime | None = Field(
        description="While set and in the future, the secret before the last rotation still works."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, source: WebhookSource) -> SourceRead:
        return cls(
            id=source.id,
            name=source.name,
            slug=source.slug,
            url_path=INTAKE_PATH.format(slug=source.slug),
            channel=WebhookChannel(source.channel),
            team_id=source.team_id,
            is_active=source.is_active,
            replay_window_seconds=source.replay_window_seconds,
            previous_secret_expires_at=(
                source.previous_secret_expires_at if source.previous_secret_encrypted else None
            ),
            created_at=source.created_at,
            updated_at=source.updated_at,
        )


class SourceWithSecret(SourceRead):
    secret: str = Field(description="The signing secret, shown this once: store it now.")


# --- what senders post ----------------------------------------------------------------------


class CustomerIn(Strict):
    """Who wrote: at least one of email, phone or external_id (the sender's id in its own
    system, kept as ``<source slug>:<external_id>``)."""

    email: IdentityText | None = None
    phone: PhoneText | None = None
    external_id: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None
    name: PersonName | None = None

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if not (self.email or self.phone or self.external_id):
            raise ValueError("give at least one of email, phone or external_id")
        return self


class AttachmentIn(Strict):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    content_type: ContentType = "application/octet-stream"
    content_base64: Base64Content = Field(description="The file's bytes, base64 (RFC 4648).")


class MessageIn(Strict):
    """A message from an app or a chat tool."""

    type: Literal["message"] = "message"
    external_id: ExternalId = Field(
        description="The message's id at the sender: sending it again changes nothing."
    )
    customer: CustomerIn
    subject: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    body: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    channel: WebhookChannel | None = Field(None, description="Defaults to the source's channel.")
    ticket_external_id: ExternalId | None = Field(
        None, description="The sender's id of the conversation: later messages reply on it."
    )
    ticket_number: Annotated[str, StringConstraints(max_length=40)] | int | None = Field(
        None, description="Reply on this ticket (TK-000123 or 123)."
    )
    attachments: Annotated[list[AttachmentIn], Field(max_length=MAX_ATTACHMENTS)] = []


class CallDirection(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class CallRecordIn(Strict):
    """A call centre's record of one call: it becomes a phone ticket of the customer."""

    type: Literal["call"]
    call_id: ExternalId
    caller: PhoneText
    callee: PhoneText | None = None
    caller_name: PersonName | None = None
    started_at: AwareDatetime
    duration_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)]
    direction: CallDirection = CallDirection.inbound
    recording_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    agent_note: Annotated[str, StringConstraints(max_length=10_000)] = ""

    @model_validator(mode="after")
    def _customer_number(self) -> Self:
        if self.direction is CallDirection.outbound and not self.callee:
            raise ValueError("an outbound call needs the callee (the customer's number)")
        return self

    @property
    def customer_phone(self) -> str:
        """The customer's number: the caller of an inbound call, the callee of an outbound."""
        if self.direction is CallDirection.outbound:
            assert self.callee is not None
            return self.callee
        return self.caller


IntakePayload = MessageIn | CallRecordIn


def parse_payload(body: bytes) -> IntakePayload:
    """The posted JSON as a message or a call record (``"type": "call"``). Raises
    ``ValueError`` for a body that is not a JSON object, pydantic's ``ValidationError`` for one
    that does not fit."""
    data: Any = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    if data.get("type") == "call":
        return CallRecordIn.model_validate(data)
    return MessageIn.model_validate(data)


class IntakeResult(BaseModel):
    ticket_id: int | None
    number: str | None = Field(description="The ticket number, e.g. TK-000123.")
    outcome: str = Field(
        description="ticket_opened, message_added, follow_up_opened, duplicate, ignored, "
        "bounce or quarantined"
    )
