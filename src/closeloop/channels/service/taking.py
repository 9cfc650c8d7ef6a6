"""Taking a message the pipeline accepted: the plan (checks and reads only: content, sender,
attachments, the ticket it continues), then the writes (customer, identities, ticket or
follow-up, attachments, the customer message, the email's Message-ID)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from closeloop.accounts import management as account_management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import (
    SYSTEM,
    IdentityKind,
    Principal,
    is_valid_identity,
    normalise_identity,
)
from closeloop.accounts.errors import IdentityAlreadyUsed, InvalidIdentity
from closeloop.channels import pipeline
from closeloop.channels.base import InboundAttachment, InboundMessage, IngestOutcome, SenderIdentity
from closeloop.channels.errors import EmptyMessage, TooManyAttachments
from closeloop.channels.service import addresses, matching
from closeloop.channels.service.references import ReferenceDirection, remember_email_reference
from closeloop.channels.service.settings import IngestSettings
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.sanitize import html_to_text, sanitize_html
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Channel, TicketType
from closeloop.tickets.errors import (
    AttachmentExtensionBlocked,
    AttachmentRejected,
    AttachmentTooLarge,
)
from closeloop.tickets.schemas import MessageCreate, TicketCreate
from closeloop.tickets.service.attachments import (
    blocked_extension,
    is_disguised_executable,
    normalise_media_type,
    sanitise_filename,
)

MAX_SUBJECT_LENGTH = 300
MAX_BODY_LENGTH = 100_000
# MessageCreate takes at most 20 attachment ids.
MAX_ATTACHMENTS = 20


def sender_key(sender: SenderIdentity) -> str:
    return f"{sender.kind.value}:{normalise_identity(sender.kind, sender.value)}"[:300]


MAX_RECIPIENTS = 50


def recipients_of(message: InboundMessage) -> list[str]:
    found = (
        normalise_identity(IdentityKind.email, address)
        for address in message.recipients
        if is_valid_identity(IdentityKind.email, address)
    )
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


# --- the plan (checks and reads only) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedAttachment:
    source: InboundAttachment
    filename: str


@dataclass(frozen=True, slots=True)
class Plan:
    subject: str
    body_text: str
    body_html: str | None
    attachments: tuple[PlannedAttachment, ...]
    skipped_attachments: tuple[str, ...]
    target: matching.Target
    # The sender's customer when they are known already (looked up once, for both steps).
    customer: accounts.CustomerRecord | None = None


def plan_message(uow: UnitOfWork, message: InboundMessage, config: IngestSettings) -> Plan:
    subject = " ".join(message.subject.split())[:MAX_SUBJECT_LENGTH]
    raw_html = (message.body_html or "").strip()
    body_html = sanitize_html(raw_html) if raw_html else None
    body_text = message.body_text.strip() or (html_to_text(body_html) if body_html else "")
    usable = [a for a in message.attachments if a.content]
    if not subject and not body_text and not usable:
        raise EmptyMessage()
    sender = message.sender
    if not is_valid_identity(sender.kind, sender.value):
        raise InvalidIdentity(kind=sender.kind.value, value=sender.value[:254])
    if len(usable) > MAX_ATTACHMENTS:
        raise TooManyAttachments(count=len(usable), limit=MAX_ATTACHMENTS)
    checked = tuple(_check_attachment(a, config) for a in usable)
    customer = accounts.find_customer_by_identity(uow, sender.kind, sender.value)
    target = matching.find_target(
        uow,
        message,
        customer=customer,
        subject_key=pipeline.subject_key(message.subject),
        sender=sender_key(sender),
        window=config.subject_window,
    )
    return Plan(
        subject=subject,
        body_text=body_text[:MAX_BODY_LENGTH],
        body_html=body_html[:MAX_BODY_LENGTH] if body_html else None,
        attachments=checked,
        skipped_attachments=tuple(a.filename for a in message.attachments if not a.content),
        target=target,
        customer=customer,
    )


def _check_attachment(attachment: InboundAttachment, config: IngestSettings) -> PlannedAttachment:
    """The rules ``tickets.upload_attachment`` applies, checked before anything is written."""
    name = sanitise_filename(attachment.filename)
    ending = blocked_extension(name, config.blocked_extensions)
    if ending is not None:
        raise AttachmentExtensionBlocked(filename=name, ending=ending)
    if len(attachment.content) > config.max_attachment_bytes:
        raise AttachmentTooLarge(filename=name, limit=config.max_attachment_bytes)
    declared = normalise_media_type(attachment.content_type)
    if is_disguised_executable(declared, attachment.content[:16]):
        raise AttachmentRejected(filename=name, reason=_("it is a program, not an image."))
    return PlannedAttachment(source=attachment, filename=name)


# --- the writes -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Taken:
    outcome: IngestOutcome
    ticket_id: int
    message_id: int
    customer_id: int
    details: dict[str, Any] = field(default_factory=dict)


def take_message(
    uow: UnitOfWork, message: InboundMessage, plan: Plan, *, config: IngestSettings, via: str
) -> Taken:
    sender = message.sender
    customer = plan.customer or accounts.find_or_create_customer(
        uow, kind=sender.kind, value=sender.value, name=sender.name or "", actor=SYSTEM, via=via
    )
    principal = accounts.principal_for_customer(customer)
    details: dict[str, Any] = {"threaded_by": plan.target.step.value}
    if plan.target.untrusted_reference is not None:
        details["untrusted_reference"] = plan.target.untrusted_reference
    if message.recipients:
        # Who the sender copied in: they may answer onto this ticket (``matching``).
        details["recipients"] = recipients_of(message)
    details.update(_link_identities(uow, customer.id, message.other_identities, via=via))
    target = plan.target
    if target.ticket_id is None:
        ticket_id = _open(
            uow, message, plan, requester_id=customer.id, locale=principal.locale, via=via
        )
        outcome = IngestOutcome.ticket_opened
    elif target.is_closed:
        ticket_id = _open_follow_up(
            uow, message, plan, target, principal=principal, requester_id=customer.id, via=via
        )
        outcome = IngestOutcome.follow_up_opened
        details["follow_up_of"] = target.ticket_id
    else:
        if target.needs_following:
            tickets.add_follower(
                uow, ticket_id=target.ticket_id, actor=SYSTEM, via=via, customer_id=customer.id
            )
            details["follower_added"] = True
        ticket_id = target.ticket_id
        outcome = IngestOutcome.message_added
    stored = _upload(uow, ticket_id, plan, principal=principal, config=config, via=via)
    body = plan.body_text or (plan.subject if not plan.body_html and not stored else "")
    posted = tickets.add_message(
        uow,
        ticket_id=ticket_id,
        data=MessageCreate(
            body=body,
            body_html=plan.body_html,
            attachment_ids=[attachment_id for attachment_id, _item in stored],
        ),
        actor=principal,
        via=via,
        channel=message.channel,
        external_id=message.external_id[:255],
    )
    if message.channel is Channel.email:
        remember_email_reference(
            uow,
            message_id_header=message.external_id,
            ticket_id=ticket_id,
            message_id=posted.id,
            direction=ReferenceDirection.inbound,
        )
    if sender.kind is IdentityKind.email:
        addresses.clear_address_failure(uow, sender.value)
    details["attachments"] = [
        {
            "attachment_id": attachment_id,
            "filename": item.filename,
            "inline": item.source.inline,
            "content_id": item.source.content_id,
        }
        for attachment_id, item in stored
    ]
    if plan.skipped_attachments:
        details["skipped_empty_attachments"] = list(plan.skipped_attachments)
    if message.metadata:
        details["channel_metadata"] = dict(message.metadata)
    return Taken(outcome, ticket_id, posted.id, customer.id, details)


def _ticket_fields(message: InboundMessage, plan: Plan, *, locale: str) -> dict[str, Any]:
    subject = plan.subject or _first_line(plan.body_text) or _("(no subject)").render(locale)
    fields: dict[str, Any] = {
        "subject": subject[:MAX_SUBJECT_LENGTH],
        "description": plan.body_text,
        "type": message.ticket_type or TicketType.inquiry,
        "channel": message.channel,
    }
    if message.custom_fields:
        fields["custom_fields"] = dict(message.custom_fields)
    return fields


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())[:80]
    return ""


def _open(
    uow: UnitOfWork,
    message: InboundMessage,
    plan: Plan,
    *,
    requester_id: int,
    locale: str,
    via: str,
) -> int:
    """A new ticket for the customer. Opened by the system on the customer's behalf, since the
    channel may choose the team (a mailbox's team), which customers may not."""
    fields = _ticket_fields(message, plan, locale=locale)
    fields["requester_id"] = requester_id
    if message.team_id is not None:
        fields["team_id"] = message.team_id
    ticket = tickets.open_ticket(uow, data=TicketCreate(**fields), actor=SYSTEM, via=via)
    return ticket.id


def _open_follow_up(
    uow: UnitOfWork,
    message: InboundMessage,
    plan: Plan,
    target: matching.Target,
    *,
    principal: Principal,
    requester_id: int,
    via: str,
) -> int:
    """A follow-up of the closed ticket. Its requester writes through the system (which keeps
    the channel's team); anyone else who may read it (a colleague following it) becomes the
    requester of the follow-up, as customers opening one themselves do."""
    assert target.ticket_id is not None
    fields = _ticket_fields(message, plan, locale=principal.locale)
    actor = principal
    if target.requester_id == requester_id:
        actor = SYSTEM
        if message.team_id is not None:
            fields["team_id"] = message.team_id
    ticket = tickets.open_follow_up(
        uow,
        closed_ticket_id=target.ticket_id,
        data=TicketCreate(**fields),
        actor=actor,
        via=via,
    )
    return ticket.id


def _upload(
    uow: UnitOfWork,
    ticket_id: int,
    plan: Plan,
    *,
    principal: Principal,
    config: IngestSettings,
    via: str,
) -> list[tuple[int, PlannedAttachment]]:
    stored: list[tuple[int, PlannedAttachment]] = []
    for item in plan.attachments:
        attachment = tickets.upload_attachment(
            uow,
            ticket_id=ticket_id,
            filename=item.filename,
            content_type=item.source.content_type,
            stream=io.BytesIO(item.source.content),
            store=config.attachment_store,
            max_bytes=config.max_attachment_bytes,
            blocked_extensions=config.blocked_extensions,
            actor=principal,
            via=via,
        )
        stored.append((attachment.id, item))
    return stored


def _link_identities(
    uow: UnitOfWork, customer_id: int, identities: tuple[SenderIdentity, ...], *, via: str
) -> dict[str, Any]:
    """Add the message's other identities to the customer; one that belongs to someone else
    stays theirs (recorded, never moved)."""
    linked: list[str] = []
    conflicts: list[str] = []
    for identity in identities:
        if not is_valid_identity(identity.kind, identity.value):
            continue
        owner = accounts.find_customer_by_identity(uow, identity.kind, identity.value)
        key = sender_key(identity)
        if owner is not None:
            if owner.id != customer_id:
                conflicts.append(key)
            continue
        try:
            with uow.savepoint():
                account_management.add_customer_identity(
                    uow,
                    customer_id=customer_id,
                    kind=identity.kind,
                    value=identity.value,
                    actor=SYSTEM,
                    via=via,
                )
            linked.append(key)
        except (IntegrityError, IdentityAlreadyUsed):
            conflicts.append(key)
    result: dict[str, Any] = {}
    if linked:
        result["linked_identities"] = linked
    if conflicts:
        result["identities_of_other_customers"] = conflicts
    return result
