"""``ingest``: one inbound message becomes exactly one ticket, one message on the right ticket,
or a recorded decision not to (ignored, bounce, quarantined). Never commits.

1. The raw bytes go to the content-addressed raw store (before the commit; idempotent).
2. The guard: an ``inbound_messages`` row for (channel, external id), inserted first with
   ``ON CONFLICT DO NOTHING``. A message already taken (or one racing in another transaction,
   which this one waits for) answers ``duplicate``, changes nothing and raises nothing.
3. The pipeline (``channels.pipeline``, pure) takes, ignores or bounces it.
4. The plan (reads only): the message is checked (content, sender, attachments) and its ticket
   is found (``matching``). A problem here quarantines the message with the reason.
5. The writes (``taking``), in ``uow.savepoint()``: the customer (and their other
   identities), then a message on the ticket, a follow-up of a closed ticket, or a new ticket
   with the message as its first message; attachments through the tickets' attachment
   service; the Message-ID. A refusal rolls back the writes and the events they published.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from closeloop.accounts.domain import Principal
from closeloop.channels import pipeline, repository
from closeloop.channels.base import InboundMessage, IngestOutcome, IngestResult
from closeloop.channels.errors import CannotReadAgain, UnreadableMessage
from closeloop.channels.models import InboundRecord
from closeloop.channels.permissions import require_inbound_manager
from closeloop.channels.service import addresses, quarantine, taking
from closeloop.channels.service.settings import (
    IngestSettings,
    current_ingest_settings,
    read_stored,
    store_raw,
)
from closeloop.channels.service.taking import MAX_SUBJECT_LENGTH, sender_key
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.kit.logging import get_logger
from closeloop.tickets.domain import Channel

log = get_logger(__name__)

MAX_EXTERNAL_ID_LENGTH = 500

# Parsers that turn a channel's raw bytes into an InboundMessage, for releasing a message that
# was quarantined before it could be parsed. Email's is found by name (it lives in
# channels/email/parse.py); other channels register theirs.
RawParser = Callable[[bytes, datetime, int | None], InboundMessage]
_PARSERS: dict[Channel, RawParser] = {}


def register_raw_parser(channel: Channel, parse: RawParser) -> None:
    _PARSERS[channel] = parse


def external_key(external_id: str) -> str:
    """The stored form of an external id: as given, or its digest when it is very long."""
    text = external_id.strip()
    if len(text) <= MAX_EXTERNAL_ID_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --- the entry points -----------------------------------------------------------------------


def ingest(
    uow: UnitOfWork,
    message: InboundMessage,
    *,
    via: str,
    settings: IngestSettings | None = None,
) -> IngestResult:
    """Take ``message`` in, exactly once per (channel, external id). The caller commits."""
    config = settings or current_ingest_settings()
    # Written first (idempotent: bytes already stored are not written again), so the guard
    # row is inserted with its digest.
    raw_sha256 = store_raw(config, message.raw) if message.raw is not None else None
    row = _claim(
        uow,
        channel=message.channel,
        external_id=message.external_id,
        sender=sender_key(message.sender),
        subject=message.subject,
        received_at=message.received_at,
        raw_sha256=raw_sha256,
    )
    if row is None:
        return _duplicate(uow, message.channel, message.external_id)
    return _process(uow, row, message, config=config, via=via)


def quarantine_raw(
    uow: UnitOfWork,
    *,
    channel: Channel,
    external_id: str,
    raw: bytes,
    reason: str,
    received_at: datetime,
    team_id: int | None = None,
    settings: IngestSettings | None = None,
) -> IngestResult:
    """Keep a message that could not even be parsed, with the parser's reason (exactly once
    per external id, like ``ingest``)."""
    config = settings or current_ingest_settings()
    row = _claim(
        uow,
        channel=channel,
        external_id=external_id,
        sender="",
        subject="",
        received_at=received_at,
        raw_sha256=store_raw(config, raw),
    )
    if row is None:
        return _duplicate(uow, channel, external_id)
    row.details = {"team_id": team_id, "unparsed": True}
    return quarantine.quarantine_row(
        uow, row, UnreadableMessage(reason=reason[:500]), settings=config, message=None
    )


def release_quarantined(
    uow: UnitOfWork,
    *,
    inbound_id: int,
    actor: Principal,
    via: str,
    settings: IngestSettings | None = None,
) -> IngestResult:
    """Take a quarantined message again (admins), through the whole pipeline. It may become a
    ticket or a message, or land in quarantine again with the new reason."""
    require_inbound_manager(actor)
    config = settings or current_ingest_settings()
    row = quarantine.load_quarantined(uow, inbound_id)
    raw = _stored_raw(config, row)
    snapshot = (row.details or {}).get("message")
    try:
        message = (
            quarantine.restore(snapshot, config, raw)
            if snapshot is not None
            else _parse_again(row, raw)
        )
    except UnreadableMessage as error:
        result = quarantine.quarantine_row(uow, row, error, settings=config, message=None)
        quarantine.record_admin_action(uow, row, action="inbound.released", actor=actor, via=via)
        return result
    details = {k: v for k, v in (row.details or {}).items() if k not in ("message", "reason_text")}
    details["released_reason"] = row.reason
    row.details = details
    row.reason = row.reason_code = None
    row.sender = sender_key(message.sender)
    row.subject = message.subject[:MAX_SUBJECT_LENGTH]
    row.subject_key = pipeline.subject_key(message.subject)
    result = _process(uow, row, message, config=config, via=via)
    quarantine.record_admin_action(uow, row, action="inbound.released", actor=actor, via=via)
    return result


def _stored_raw(config: IngestSettings, row: InboundRecord) -> bytes | None:
    if row.raw_sha256 is None:
        return None
    try:
        return read_stored(config, row.raw_sha256)
    except FileNotFoundError:
        log.error("channels.raw_missing", inbound_id=row.id, sha256=row.raw_sha256)
        return None


def _parse_again(row: InboundRecord, raw: bytes | None) -> InboundMessage:
    channel = Channel(row.channel)
    team_id = (row.details or {}).get("team_id")
    parser = _PARSERS.get(channel)
    if parser is None and channel is Channel.email:
        module: Any = importlib.import_module("closeloop.channels.email.parse")

        def parser(data: bytes, received_at: datetime, team: int | None) -> InboundMessage:
            parsed: InboundMessage = module.parse_message(
                data, received_at=received_at, team_id=team
            )
            return parsed

    if parser is None or raw is None:
        raise CannotReadAgain(inbound_id=row.id, channel=row.channel)
    try:
        parsed = parser(raw, row.received_at, team_id)
    except Exception as error:  # the parser's own error type is the channel's business
        raise UnreadableMessage(reason=str(getattr(error, "reason", "") or error)[:500]) from error
    # The guard row keeps its key: the parsed message is the same message.
    return dataclasses.replace(parsed, external_id=row.external_id)


# --- the guard --------------------------------------------------------------------------------


def _claim(
    uow: UnitOfWork,
    *,
    channel: Channel,
    external_id: str,
    sender: str,
    subject: str,
    received_at: datetime,
    raw_sha256: str | None,
) -> InboundRecord | None:
    """Insert the guard row; None when (channel, external id) is taken already.

    ``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a concurrent transaction inserting the
    same pair makes this one wait, then insert nothing if it commits (or insert, if it rolled
    back); on SQLite writers queue on the database lock. The loser gets no error, so its
    transaction goes on (it answers ``duplicate``)."""
    now = uow.clock.now()
    return repository.claim_inbound(
        uow.session,
        {
            "channel": channel.value,
            "external_id": external_key(external_id),
            "outcome": "pending",
            "sender": sender,
            "subject": subject.strip()[:MAX_SUBJECT_LENGTH],
            "subject_key": pipeline.subject_key(subject),
            "received_at": received_at,
            "created_at": now,
            "updated_at": now,
            "raw_sha256": raw_sha256,
            "details": {},
        },
    )


def _duplicate(uow: UnitOfWork, channel: Channel, external_id: str) -> IngestResult:
    existing = repository.inbound_by_external_id(
        uow.session, channel.value, external_key(external_id)
    )
    log.info("channels.duplicate", channel=channel.value, external_id=external_id[:200])
    if existing is None:  # the winner of a race rolled back meanwhile: the next try takes it
        return IngestResult(outcome=IngestOutcome.duplicate)
    return IngestResult(
        outcome=IngestOutcome.duplicate,
        ticket_id=existing.ticket_id,
        message_id=existing.message_id,
        customer_id=existing.customer_id,
        reason=existing.outcome,
    )


# --- deciding -----------------------------------------------------------------------------------


def _process(
    uow: UnitOfWork,
    row: InboundRecord,
    message: InboundMessage,
    *,
    config: IngestSettings,
    via: str,
) -> IngestResult:
    context = pipeline.PipelineContext(own_addresses=config.own_addresses, now=uow.clock.now())
    decision = pipeline.decide(message, context)
    if decision.kind is pipeline.DecisionKind.ignore:
        assert decision.reason is not None
        return _finish_untaken(uow, row, decision, IngestOutcome.ignored)
    if decision.kind is pipeline.DecisionKind.bounce:
        for address in decision.failing_addresses:
            addresses.record_address_failure(uow, address, reason=message.subject[:300])
        return _finish_untaken(uow, row, decision, IngestOutcome.bounce)
    try:
        plan = taking.plan_message(uow, message, config)
    except DomainError as error:
        return quarantine.quarantine_row(uow, row, error, settings=config, message=message)
    try:
        # A refusal rolls back every write of the message, and with them the events, callbacks
        # and caches they left in the unit of work: no reaction to a ticket that is not there.
        with uow.savepoint():
            taken = taking.take_message(uow, message, plan, config=config, via=via)
    except DomainError as error:
        return quarantine.quarantine_row(uow, row, error, settings=config, message=message)
    row.outcome = taken.outcome.value
    row.ticket_id = taken.ticket_id
    row.message_id = taken.message_id
    row.customer_id = taken.customer_id
    row.details = quarantine.json_safe({**(row.details or {}), **taken.details})
    row.updated_at = uow.clock.now()
    uow.session.flush()
    return IngestResult(
        outcome=taken.outcome,
        ticket_id=taken.ticket_id,
        message_id=taken.message_id,
        customer_id=taken.customer_id,
    )


def _finish_untaken(
    uow: UnitOfWork, row: InboundRecord, decision: pipeline.Decision, outcome: IngestOutcome
) -> IngestResult:
    text = decision.text
    reason = text.render("en")
    if decision.failing_addresses:
        reason = f"{reason} ({', '.join(decision.failing_addresses)})"
    row.outcome = outcome.value
    row.reason = reason
    row.reason_code = (
        f"ignored.{decision.reason.value}" if decision.reason is not None else "bounce"
    )
    row.details = {
        **(row.details or {}),
        "reason_text": {locale: text.render(locale) for locale in ("en", "zh_CN")},
        "detail": decision.detail,
        "failing_addresses": list(decision.failing_addresses),
    }
    row.updated_at = uow.clock.now()
    uow.session.flush()
    log.info("channels.not_taken", inbound_id=row.id, outcome=outcome.value, code=row.reason_code)
    return IngestResult(outcome=outcome, reason=reason)
