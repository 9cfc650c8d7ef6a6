"""What every channel hands to the inbound pipeline, and what the pipeline answers."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from closeloop.accounts.domain import IdentityKind
from closeloop.tickets.domain import Channel, TicketType


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """Who wrote, as the channel knows them: an email address, a phone number, an openid."""

    kind: IdentityKind
    value: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes
    # Inline parts (images referenced by ``cid:`` in the HTML body) are kept as attachments
    # too; the view shows them in place.
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from outside, before it is a ticket or a reply.

    ``external_id`` is the channel's own id of the message (an email's Message-ID, WeChat's
    MsgId, a webhook's external id): the pipeline takes each (channel, external_id) once.
    """

    channel: Channel
    external_id: str
    sender: SenderIdentity
    subject: str
    body_text: str
    received_at: datetime
    body_html: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    # Further identities of the same person (a webhook may send both a phone and an email).
    other_identities: tuple[SenderIdentity, ...] = ()
    # Email threading and loop detection.
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    raw: bytes | None = None
    # Where it arrived (a mailbox's team) and what the sender chose (web form fields).
    team_id: int | None = None
    ticket_type: TicketType | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    # A reply addressed to a known ticket (a customer's private link, a WeChat conversation).
    ticket_id: int | None = None
    # Channel-specific facts kept with the inbound record (WeChat MsgType, call duration…).
    metadata: Mapping[str, Any] = field(default_factory=dict)


class IngestOutcome(enum.StrEnum):
    ticket_opened = "ticket_opened"
    message_added = "message_added"
    follow_up_opened = "follow_up_opened"
    duplicate = "duplicate"
    ignored = "ignored"
    bounce = "bounce"
    quarantined = "quarantined"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    ticket_id: int | None = None
    message_id: int | None = None
    customer_id: int | None = None
    # Why a message was ignored, taken as a bounce or quarantined (shown to admins).
    reason: str | None = None
