"""The SMTP receiver (``closeloop smtpd``, aiosmtpd): mail for the teams' addresses, taken in
directly from the sending MTA instead of polled from a mailbox.

* ``RCPT TO`` an address no active mailbox has: ``550`` (the sender learns at once).
* ``DATA``: the message is parsed and ingested (or quarantined, also when it breaks the
  pipeline) **and committed** before the answer; only then ``250``. A failure to store it (the
  database) answers ``451`` (temporary), so the sending MTA keeps the message and tries again:
  nothing acknowledged is lost, and a retry of a message that did commit is a ``duplicate``.
* Larger than ``smtpd_max_message_bytes``: ``552`` (aiosmtpd's own check).

The database work is synchronous and runs in a thread, off the event loop. Committing is the
caller's (``closeloop.cli``): this module only hands over ``accepts`` and ``store`` callables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from closeloop.channels.base import IngestResult
from closeloop.channels.email import intake, mailboxes
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import describe_error
from closeloop.kit.logging import get_logger

VIA = "channel:email"
log = get_logger(__name__)

Accepts = Callable[[str], bool]
"""True when an active mailbox receives mail for this address."""
Store = Callable[[bytes, Sequence[str]], IngestResult]
"""Ingest and commit one message for these recipients; raise if it was not stored."""


def accepts(uow: UnitOfWork, address: str) -> bool:
    return mailboxes.mailbox_for_address(uow, address) is not None


def store_message(uow: UnitOfWork, raw: bytes, recipients: Sequence[str]) -> IngestResult:
    """Ingest ``raw`` for the team of the first recipient that is one of our mailboxes (the
    caller commits)."""
    team_id: int | None = None
    for address in recipients:
        mailbox = mailboxes.mailbox_for_address(uow, address)
        if mailbox is not None:
            team_id = mailbox.team_id
            break
    return intake.receive_or_quarantine(
        uow, raw, team_id=team_id, received_at=uow.clock.now(), via=VIA
    )


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the address, DATA stores durably before 250."""

    def __init__(self, *, accepts: Accepts, store: Store) -> None:
        self._accepts = accepts
        self._store = store

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            known = await asyncio.to_thread(self._accepts, address)
        except Exception as error:
            log.error("smtpd.lookup_failed", error=describe_error(error))
            return "451 4.3.0 Temporary failure, please try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content: Any = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        try:
            result = await asyncio.to_thread(self._store, raw, list(envelope.rcpt_tos))
        except Exception as error:
            log.error("smtpd.store_failed", error=describe_error(error), size=len(raw))
            return "451 4.3.0 Temporary failure, please try again later"
        log.info(
            "smtpd.accepted",
            outcome=result.outcome.value,
            ticket_id=result.ticket_id,
            size=len(raw),
        )
        return "250 2.0.0 OK: stored"


def controller(
    handler: IntakeHandler, *, host: str, port: int, max_message_bytes: int
) -> Controller:
    """An aiosmtpd server thread for ``handler`` (``start()`` / ``stop()``)."""
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=max_message_bytes,
        enable_SMTPUTF8=True,
        ident="closeloop smtpd",
    )
