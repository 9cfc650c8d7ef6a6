"""Mail that arrived (polled over IMAP, or handed to ``closeloop smtpd``) becomes a ticket or a
message: parse, then the channels' one ingest pipeline; what cannot be parsed, or breaks the
pipeline, is quarantined. Never commits: the caller commits the whole of it in one transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from closeloop.channels import service as channel_service
from closeloop.channels.base import IngestResult
from closeloop.channels.email import mailboxes
from closeloop.channels.email.parse import UnparseableMessage, parse_message
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import describe_error
from closeloop.kit.logging import get_logger
from closeloop.tickets.domain import Channel

log = get_logger(__name__)


def raw_id(raw: bytes) -> str:
    """An id for a message that has no usable Message-ID of its own (it is quarantined)."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def receive_email(
    uow: UnitOfWork,
    raw: bytes,
    *,
    team_id: int | None,
    received_at: datetime,
    via: str,
) -> IngestResult:
    """Take one raw RFC 5322 message in; exactly once per Message-ID (a repeat is a
    ``duplicate``)."""
    # Mail from any of our mailboxes is a loop, whatever the server's own From address.
    settings = channel_service.current_ingest_settings().with_own_addresses(
        frozenset(mailboxes.our_addresses(uow))
    )
    try:
        message = parse_message(raw, received_at=received_at, team_id=team_id)
    except UnparseableMessage as error:
        log.warning("email.unparseable", reason=error.reason, size=len(raw), via=via)
        return channel_service.quarantine_raw(
            uow,
            channel=Channel.email,
            external_id=raw_id(raw),
            raw=raw,
            reason=error.reason,
            received_at=received_at,
            team_id=team_id,
            settings=settings,
        )
    result = channel_service.ingest(uow, message, via=via, settings=settings)
    log.info(
        "email.received",
        outcome=result.outcome.value,
        ticket_id=result.ticket_id,
        message_id=result.message_id,
        via=via,
    )
    return result


def receive_or_quarantine(
    uow: UnitOfWork,
    raw: bytes,
    *,
    team_id: int | None,
    received_at: datetime,
    via: str,
) -> IngestResult:
    """``receive_email``, except that a message breaking the pipeline (not the database) is
    quarantined with the reason: one bad message must not stop a mailbox's polling (the same UID
    failing for ever) nor be refused by ``smtpd`` until the sender gives up.

    The attempt runs in ``uow.savepoint()``, not a bare SQL savepoint: what it published (a
    ``TicketOpened`` of the ticket that was rolled back) must go too, or its handlers would run
    at the commit against rows that are not there, and fail the commit.
    """
    try:
        with uow.savepoint():
            return receive_email(uow, raw, team_id=team_id, received_at=received_at, via=via)
    except SQLAlchemyError:
        raise  # the database is unwell: the caller fails (job retried, smtpd answers 451)
    except Exception as error:
        reason = f"ingest failed: {describe_error(error)}"
        log.error("email.ingest_failed", team_id=team_id, error=reason, via=via)
        return channel_service.quarantine_raw(
            uow,
            channel=Channel.email,
            external_id=raw_id(raw),
            raw=raw,
            reason=reason,
            received_at=received_at,
            team_id=team_id,
        )
