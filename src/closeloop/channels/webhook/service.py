"""Webhook sources (administrators) and the intake of what they post.

Intake: the source is found by its slug (unknown or switched off: 404), the signature checked
against the secrets it accepts (``signing``; refused: 401), then the message or call record
becomes an ``InboundMessage`` for ``channels.service.ingest``, which takes each external id once.
External ids are kept per source (``webhook:<source id>:<id>``), and so are the senders' own
customer ids (``<slug>:<id>``), so two sources never collide.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal, is_valid_identity, normalise_identity
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.channels import service as channel_service
from closeloop.channels.base import (
    InboundAttachment,
    InboundMessage,
    IngestOutcome,
    IngestResult,
    SenderIdentity,
)
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.webhook import repository
from closeloop.channels.webhook.calls import CallFacts, call_body, call_subject
from closeloop.channels.webhook.errors import (
    WebhookSecretUnreadable,
    WebhookSignatureRefused,
    WebhookSlugTaken,
    WebhookSourceNotFound,
)
from closeloop.channels.webhook.models import WebhookSource, WebhookTicketReference
from closeloop.channels.webhook.schemas import (
    CallDirection,
    CallRecordIn,
    IntakePayload,
    MessageIn,
    SourceCreate,
    SourceUpdate,
)
from closeloop.channels.webhook.signing import check_signature
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied, ValidationFailed
from closeloop.kit.ids import parse_ticket_number
from closeloop.kit.logging import get_logger
from closeloop.tickets.domain import Channel

ENTITY = "webhook_source"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a public marker, not a secret)
log = get_logger(__name__)


# --- administration -------------------------------------------------------------------------


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _record(
    uow: UnitOfWork,
    source: WebhookSource,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=source.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def list_sources(uow: UnitOfWork, *, actor: Principal) -> list[WebhookSource]:
    _require_admin(actor)
    return list(repository.sources(uow.session))


def get_source(
    uow: UnitOfWork, *, source_id: int, actor: Principal, for_update: bool = False
) -> WebhookSource:
    _require_admin(actor)
    source = (
        repository.source_for_update(uow.session, source_id)
        if for_update
        else uow.session.get(WebhookSource, source_id)
    )
    if source is None:
        raise WebhookSourceNotFound(source=source_id)
    return source


def create_source(
    uow: UnitOfWork, *, data: SourceCreate, cipher: SecretBox, actor: Principal, via: str
) -> tuple[WebhookSource, str]:
    """A new source and its signing secret (returned this once, stored encrypted)."""
    _require_admin(actor)
    if repository.slug_taken(uow.session, data.slug):
        raise WebhookSlugTaken(slug=data.slug)
    if data.team_id is not None:
        accounts.get_team(uow, data.team_id)
    secret = new_secret()
    now = uow.clock.now()
    source = WebhookSource(
        name=data.name,
        slug=data.slug,
        channel=data.channel.value,
        team_id=data.team_id,
        secret_encrypted=cipher.encrypt(secret),
        is_active=data.is_active,
        replay_window_seconds=data.replay_window_seconds,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(source)
    uow.session.flush()
    _record(
        uow,
        source,
        action="webhook_source.created",
        actor=actor,
        via=via,
        changes=[
            Change("name", None, source.name),
            Change("slug", None, source.slug),
            Change("channel", None, source.channel),
            Change("team_id", None, source.team_id),
            Change("secret", None, "set"),
        ],
        new_entity=True,
    )
    return source, secret


def update_source(
    uow: UnitOfWork, *, source_id: int, data: SourceUpdate, actor: Principal, via: str
) -> WebhookSource:
    source = get_source(uow, source_id=source_id, actor=actor, for_update=True)
    values = data.given()
    if values.get("team_id") is not None:
        accounts.get_team(uow, values["team_id"])
    changes: list[Change] = []
    for name, value in values.items():
        plain = value.value if hasattr(value, "value") else value
        if getattr(source, name) != plain:
            changes.append(Change(name, getattr(source, name), plain))
            setattr(source, name, plain)
    if not changes:
        return source
    source.updated_at = uow.clock.now()
    uow.session.flush()
    _record(uow, source, action="webhook_source.updated", actor=actor, via=via, changes=changes)
    return source


def rotate_secret(
    uow: UnitOfWork,
    *,
    source_id: int,
    keep_previous_seconds: int,
    cipher: SecretBox,
    actor: Principal,
    via: str,
) -> tuple[WebhookSource, str]:
    """A new secret (returned this once). The current one keeps working beside it for
    ``keep_previous_seconds``, so senders can switch without losing a request."""
    source = get_source(uow, source_id=source_id, actor=actor, for_update=True)
    secret = new_secret()
    now = uow.clock.now()
    if keep_previous_seconds > 0:
        source.previous_secret_encrypted = source.secret_encrypted
        source.previous_secret_expires_at = now + timedelta(seconds=keep_previous_seconds)
    else:
        source.previous_secret_encrypted = None
        source.previous_secret_expires_at = None
    source.secret_encrypted = cipher.encrypt(secret)
    source.updated_at = now
    uow.session.flush()
    _record(
        uow,
        source,
        action="webhook_source.secret_rotated",
        actor=actor,
        via=via,
        changes=[
            Change("secret", "set", "rotated"),
            Change(
                "previous_secret_expires_at",
                None,
                expires.isoformat() if (expires := source.previous_secret_expires_at) else None,
            ),
        ],
    )
    return source, secret


def delete_source(uow: UnitOfWork, *, source_id: int, actor: Principal, via: str) -> None:
    source = get_source(uow, source_id=source_id, actor=actor, for_update=True)
    _record(
        uow,
        source,
        action="webhook_source.deleted",
        actor=actor,
        via=via,
        changes=[Change("slug", source.slug, None)],
    )
    uow.session.delete(source)
    uow.session.flush()


# --- intake ---------------------------------------------------------------------------------


def accepted_secrets(source: WebhookSource, cipher: SecretBox, *, now_unix: int) -> list[str]:
    """The current secret, and the previous one while its grace period runs."""
    found = [cipher.decrypt(source.secret_encrypted)]
    expires = source.previous_secret_expires_at
    if source.previous_secret_encrypted and expires and expires.timestamp() > now_unix:
        found.append(cipher.decrypt(source.previous_secret_encrypted))
    return found


def verify_request(
    uow: UnitOfWork, *, slug: str, header: str | None, body: bytes, cipher: SecretBox
) -> WebhookSource:
    """The active source at ``slug`` if ``header`` signs ``body`` for it; else 404 / 401."""
    source = repository.source_by_slug(uow.session, slug)
    if source is None or not source.is_active:
        raise WebhookSourceNotFound(source=slug)
    now_unix = int(uow.clock.now().timestamp())
    try:
        secrets_now = accepted_secrets(source, cipher, now_unix=now_unix)
    except SecretUnreadable as error:
        log.error("webhook.secret_unreadable", source=source.slug)
        raise WebhookSecretUnreadable(source=source.slug) from error
    problem = check_signature(
        header, body, secrets_now, now=now_unix, window_seconds=source.replay_window_seconds
    )
    if problem is not None:
        log.info("webhook.signature_refused", source=source.slug, reason=problem.value)
        raise WebhookSignatureRefused()
    return source


@dataclass(frozen=True, slots=True)
class Received:
    result: IngestResult

    @property
    def status_code(self) -> int:
        """201 a ticket was opened, 202 taken otherwise, 200 already taken before."""
        outcome = self.result.outcome
        if outcome is IngestOutcome.duplicate:
            return 200
        if outcome in (IngestOutcome.ticket_opened, IngestOutcome.follow_up_opened):
            return 201
        return 202


def receive(
    uow: UnitOfWork,
    *,
    source: WebhookSource,
    payload: IntakePayload,
    max_attachment_bytes: int,
    ingest_settings: channel_service.IngestSettings | None = None,
) -> Received:
    """Hand the posted message or call record to the inbound pipeline (never commits).
    ``ingest_settings``: the server's (attachment store…); by default the process's."""
    if isinstance(payload, CallRecordIn):
        message = _call_message(uow, source, payload)
        reference = None
    else:
        message = _message(uow, source, payload, max_attachment_bytes)
        reference = payload.ticket_external_id
    config = ingest_settings or channel_service.current_ingest_settings()
    # Senders thread explicitly (ticket_external_id, ticket_number); "same sender and subject"
    # would join every "Call from …" of one number, and a new conversation to an old one.
    config = dataclasses.replace(
        config, subject_window=dataclasses.replace(config.subject_window, is_enabled=False)
    )
    result = channel_service.ingest(
        uow, message, via=f"channel:webhook:{source.slug}", settings=config
    )
    if reference is not None and result.ticket_id is not None:
        _remember_reference(uow, source, reference, result)
    log.info(
        "webhook.received",
        source=source.slug,
        outcome=result.outcome.value,
        ticket_id=result.ticket_id,
    )
    return Received(result=result)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(errors=[{"field": field, "code": "invalid", "message": message}])


def _identity(kind: IdentityKind, value: str, field: str) -> str:
    if not is_valid_identity(kind, value):
        raise _invalid(field, f"not a valid {kind.value}")
    return normalise_identity(kind, value)


def _message(
    uow: UnitOfWork, source: WebhookSource, payload: MessageIn, max_attachment_bytes: int
) -> InboundMessage:
    customer = payload.customer
    identities: list[SenderIdentity] = []
    name = customer.name or None
    if customer.email:
        value = _identity(IdentityKind.email, customer.email, "customer.email")
        identities.append(SenderIdentity(IdentityKind.email, value, name))
    if customer.phone:
        value = _identity(IdentityKind.phone, customer.phone, "customer.phone")
        identities.append(SenderIdentity(IdentityKind.phone, value, name))
    if customer.external_id:
        value = f"{source.slug}:{customer.external_id}"
        identities.append(
            SenderIdentity(
                IdentityKind.external_id,
                _identity(IdentityKind.external_id, value, "customer.external_id"),
                name,
            )
        )
    attachments = []
    for index, attachment in enumerate(payload.attachments):
        if len(attachment.content_base64) > max_attachment_bytes:
            raise _invalid(
                f"attachments.{index}.content_base64",
                f"larger than the limit of {max_attachment_bytes} bytes",
            )
        attachments.append(
            InboundAttachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                content=attachment.content_base64,
            )
        )
    subject = payload.subject or _subject_from(payload.body)
    return InboundMessage(
        channel=Channel(payload.channel.value if payload.channel else source.channel),
        external_id=f"webhook:{source.id}:{payload.external_id}",
        sender=identities[0],
        other_identities=tuple(identities[1:]),
        subject=subject,
        body_text=payload.body,
        received_at=uow.clock.now(),
        attachments=tuple(attachments),
        team_id=source.team_id,
        ticket_id=_ticket_id(uow, source, payload),
        metadata={"webhook_source": source.slug, "external_id": payload.external_id},
    )


def _subject_from(body: str) -> str:
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return first[:120] if len(first) <= 120 else first[:119] + "…"


def _ticket_id(uow: UnitOfWork, source: WebhookSource, payload: MessageIn) -> int | None:
    if payload.ticket_number is not None:
        ticket_id = parse_ticket_number(str(payload.ticket_number))
        if ticket_id is None:
            raise _invalid("ticket_number", "not a ticket number such as TK-000123")
        return ticket_id
    if payload.ticket_external_id is not None:
        found = repository.ticket_reference(uow.session, source.id, payload.ticket_external_id)
        return found.ticket_id if found is not None else None
    return None


def _remember_reference(
    uow: UnitOfWork, source: WebhookSource, external_id: str, result: IngestResult
) -> None:
    """The sender's conversation id now names this ticket (a follow-up replaces a closed one)."""
    assert result.ticket_id is not None
    now = uow.clock.now()
    found = repository.ticket_reference(uow.session, source.id, external_id)
    if found is not None:
        if found.ticket_id != result.ticket_id:
            found.ticket_id = result.ticket_id
            found.updated_at = now
        return
    try:
        with uow.session.begin_nested():
            uow.session.add(
                WebhookTicketReference(
                    source_id=source.id,
                    external_id=external_id,
                    ticket_id=result.ticket_id,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        # A concurrent first message of the same conversation won: its ticket keeps the name.
        log.info("webhook.reference_taken", source=source.slug, ticket_id=result.ticket_id)


def _call_message(uow: UnitOfWork, source: WebhookSource, call: CallRecordIn) -> InboundMessage:
    phone = _identity(
        IdentityKind.phone,
        call.customer_phone,
        "caller" if call.direction is CallDirection.inbound else "callee",
    )
    organisation = accounts.get_organisation(uow)
    other = call.callee if call.direction is CallDirection.inbound else call.caller
    facts = CallFacts(
        call_id=call.call_id,
        phone=phone,
        other_party=other,
        is_inbound=call.direction is CallDirection.inbound,
        started_at=call.started_at,
        duration_seconds=call.duration_seconds,
        recording_url=call.recording_url,
        agent_note=call.agent_note,
    )
    locale, time_zone = organisation.default_locale, organisation.time_zone
    return InboundMessage(
        channel=Channel.phone,
        external_id=f"webhook:{source.id}:call:{call.call_id}",
        sender=SenderIdentity(IdentityKind.phone, phone, call.caller_name or None),
        subject=call_subject(facts, locale),
        body_text=call_body(facts, locale, time_zone),
        received_at=uow.clock.now(),
        team_id=source.team_id,
        metadata={
            "webhook_source": source.slug,
            "call": {
                "call_id": call.call_id,
                "direction": call.direction.value,
                "started_at": call.started_at.isoformat(),
                "duration_seconds": call.duration_seconds,
                "recording_url": call.recording_url,
            },
        },
    )
