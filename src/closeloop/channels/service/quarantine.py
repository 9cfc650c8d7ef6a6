"""Quarantine: messages the pipeline could not take, kept with the reason, for admins to
release (take again, e.g. after fixing a custom field or a parser) or discard.

A quarantined message is an ``inbound_messages`` row with outcome ``quarantined``. Its guard
row stays, so the channel delivering it again answers ``duplicate``; what it said is kept as a
snapshot (attachments in the raw store by their SHA-256), so a release needs no channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, BinaryIO

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.channels import repository
from closeloop.channels.base import (
    InboundAttachment,
    InboundMessage,
    IngestOutcome,
    IngestResult,
    SenderIdentity,
)
from closeloop.channels.errors import (
    InboundMessageNotFound,
    NotQuarantined,
    RawMessageMissing,
)
from closeloop.channels.models import InboundRecord
from closeloop.channels.permissions import require_inbound_manager
from closeloop.channels.service.settings import (
    IngestSettings,
    current_ingest_settings,
    open_stored,
    read_stored,
    store_raw,
)
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError, ValidationFailed
from closeloop.kit.i18n import SUPPORTED_LOCALES
from closeloop.kit.logging import get_logger
from closeloop.kit.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    InvalidCursor,
    Page,
    decode_cursor,
    encode_cursor,
)
from closeloop.tickets.domain import Channel, TicketType

log = get_logger(__name__)

ENTITY = "inbound_message"


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON (bytes, datetimes and the like become text)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def reason_texts(error: DomainError) -> dict[str, str]:
    """The reason in every language we speak: admins read it in theirs."""
    return {locale: error.render(locale) for locale in SUPPORTED_LOCALES}


# --- snapshots ------------------------------------------------------------------------------


def snapshot(message: InboundMessage, settings: IngestSettings) -> dict[str, Any]:
    """Everything needed to take the message again; attachment bytes go to the raw store."""
    attachments = []
    for attachment in message.attachments:
        sha256 = store_raw(settings, attachment.content) if attachment.content else None
        attachments.append(
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "sha256": sha256,
                "inline": attachment.inline,
                "content_id": attachment.content_id,
            }
        )

    def identity(sender: SenderIdentity) -> dict[str, Any]:
        return {"kind": sender.kind.value, "value": sender.value, "name": sender.name}

    data: dict[str, Any] = json_safe(
        {
            "channel": message.channel.value,
            "external_id": message.external_id,
            "sender": identity(message.sender),
            "subject": message.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
            "received_at": message.received_at.isoformat(),
            "attachments": attachments,
            "other_identities": [identity(i) for i in message.other_identities],
            "in_reply_to": message.in_reply_to,
            "references": list(message.references),
            "headers": dict(message.headers),
            "recipients": list(message.recipients),
            "team_id": message.team_id,
            "ticket_type": message.ticket_type.value if message.ticket_type else None,
            "custom_fields": dict(message.custom_fields),
            "ticket_id": message.ticket_id,
            "metadata": dict(message.metadata),
        }
    )
    return data


def restore(data: Mapping[str, Any], settings: IngestSettings, raw: bytes | None) -> InboundMessage:
    def identity(item: Mapping[str, Any]) -> SenderIdentity:
        return SenderIdentity(IdentityKind(item["kind"]), item["value"], item.get("name"))

    attachments = tuple(
        InboundAttachment(
            filename=item["filename"],
            content_type=item["content_type"],
            content=read_stored(settings, item["sha256"]) if item.get("sha256") else b"",
            inline=bool(item.get("inline")),
            content_id=item.get("content_id"),
        )
        for item in data.get("attachments", [])
    )
    return InboundMessage(
        channel=Channel(data["channel"]),
        external_id=data["external_id"],
        sender=identity(data["sender"]),
        subject=data.get("subject") or "",
        body_text=data.get("body_text") or "",
        body_html=data.get("body_html"),
        received_at=datetime.fromisoformat(data["received_at"]),
        attachments=attachments,
        other_identities=tuple(identity(i) for i in data.get("other_identities", [])),
        in_reply_to=data.get("in_reply_to"),
        references=tuple(data.get("references", [])),
        headers=dict(data.get("headers", {})),
        recipients=tuple(data.get("recipients", [])),
        raw=raw,
        team_id=data.get("team_id"),
        ticket_type=TicketType(data["ticket_type"]) if data.get("ticket_type") else None,
        custom_fields=dict(data.get("custom_fields", {})),
        ticket_id=data.get("ticket_id"),
        metadata=dict(data.get("metadata", {})),
    )


# --- putting in and taking out --------------------------------------------------------------


def quarantine_row(
    uow: UnitOfWork,
    row: InboundRecord,
    error: DomainError,
    *,
    settings: IngestSettings,
    message: InboundMessage | None,
) -> IngestResult:
    """Mark ``row`` quarantined with the error as its reason (and keep what the message said)."""
    details = dict(row.details or {})
    details["reason_text"] = reason_texts(error)
    if message is not None:
        details["message"] = snapshot(message, settings)
    row.outcome = IngestOutcome.quarantined.value
    row.reason_code = error.code
    row.reason = error.render("en")
    row.ticket_id = row.message_id = None
    row.details = details
    row.updated_at = uow.clock.now()
    uow.session.flush()
    log.warning(
        "channels.quarantined", inbound_id=row.id, channel=row.channel, reason_code=error.code
    )
    return IngestResult(outcome=IngestOutcome.quarantined, reason=row.reason)


def _load(uow: UnitOfWork, inbound_id: int, *, for_update: bool = False) -> InboundRecord:
    row = (
        repository.inbound_for_update(uow.session, inbound_id)
        if for_update
        else uow.session.get(InboundRecord, inbound_id)
    )
    if row is None:
        raise InboundMessageNotFound(inbound_id=inbound_id)
    return row


def load_quarantined(uow: UnitOfWork, inbound_id: int) -> InboundRecord:
    row = _load(uow, inbound_id, for_update=True)
    if row.outcome != IngestOutcome.quarantined.value:
        raise NotQuarantined(inbound_id=inbound_id, outcome=row.outcome)
    return row


def record_admin_action(
    uow: UnitOfWork, row: InboundRecord, *, action: str, actor: Principal, via: str
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=row.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=[Change("outcome", IngestOutcome.quarantined.value, row.outcome)],
    )


def list_quarantine(
    uow: UnitOfWork,
    *,
    actor: Principal,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[InboundRecord]:
    """Quarantined messages, newest first (admins)."""
    require_inbound_manager(actor)
    before_id: int | None = None
    if cursor:
        try:
            value = decode_cursor(cursor).get("id")
        except InvalidCursor:
            value = None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationFailed(
                errors=[{"field": "cursor", "code": "invalid", "message": "Unknown cursor."}]
            )
        before_id = value
    rows, more = repository.inbound_page(
        uow.session,
        outcome=IngestOutcome.quarantined.value,
        before_id=before_id,
        limit=max(1, min(limit, MAX_PAGE_SIZE)),
    )
    next_cursor = encode_cursor({"id": rows[-1].id}) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def get_inbound(uow: UnitOfWork, *, inbound_id: int, actor: Principal) -> InboundRecord:
    require_inbound_manager(actor)
    return _load(uow, inbound_id)


def discard_quarantined(
    uow: UnitOfWork, *, inbound_id: int, actor: Principal, via: str
) -> InboundRecord:
    """Give up on a quarantined message. Its record (and raw message) stay, so the channel
    delivering it again is still a duplicate."""
    require_inbound_manager(actor)
    row = load_quarantined(uow, inbound_id)
    row.outcome = "discarded"
    row.updated_at = uow.clock.now()
    uow.session.flush()
    record_admin_action(uow, row, action="inbound.discarded", actor=actor, via=via)
    return row


def open_raw_message(
    uow: UnitOfWork,
    *,
    inbound_id: int,
    actor: Principal,
    settings: IngestSettings | None = None,
) -> tuple[InboundRecord, BinaryIO]:
    """The record and its raw bytes, opened for reading (the caller closes them)."""
    require_inbound_manager(actor)
    row = _load(uow, inbound_id)
    if row.raw_sha256 is None:
        raise RawMessageMissing(inbound_id=inbound_id)
    try:
        return row, open_stored(settings or current_ingest_settings(), row.raw_sha256)
    except FileNotFoundError as error:
        log.error("channels.raw_missing", inbound_id=row.id, sha256=row.raw_sha256)
        raise RawMessageMissing(inbound_id=inbound_id) from error
