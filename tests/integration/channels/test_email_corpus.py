"""The shared corpus of real-world mail through the parser and the pipeline: every message ends
as a ticket, a message, a recorded decision (ignored, bounce) or in quarantine with a reason; a
second delivery of the whole corpus changes nothing.

The corpus (/work/shared/corpora/email/) is not copied into the repository: the test skips
when it is missing.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from closeloop.channels import service as channel_service
from closeloop.channels.base import IngestOutcome, IngestResult
from closeloop.channels.email.parse import UnparseableMessage, parse_message
from closeloop.channels.models import InboundRecord
from closeloop.channels.service import IngestSettings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.domain import Channel
from closeloop.tickets.models import Message, Ticket

CORPUS = Path(os.environ.get("CLOSELOOP_EMAIL_CORPUS", "/work/shared/corpora/email"))

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no email corpus at {CORPUS}")


def _messages() -> list[bytes]:
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".eml", ".txt"))
    return [p.read_bytes() for p in files if p.name != "SOURCE.txt"]


def _deliver(uow: UnitOfWork, raw: bytes, settings: IngestSettings) -> IngestResult:
    try:
        message = parse_message(raw, received_at=uow.clock.now())
    except UnparseableMessage as error:
        return channel_service.quarantine_raw(
            uow,
            channel=Channel.email,
            external_id="sha256:" + hashlib.sha256(raw).hexdigest(),
            raw=raw,
            reason=error.reason,
            received_at=uow.clock.now(),
            settings=settings,
        )
    return channel_service.ingest(uow, message, via="channel:email", settings=settings)


def test_every_corpus_message_is_taken_once_or_kept_with_a_reason(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    settings = IngestSettings(
        attachments_dir=tmp_path / "attachments",
        raw_dir=tmp_path / "inbound",
        max_attachment_bytes=20 * 1024 * 1024,
        blocked_extensions=(".exe",),
    )
    corpus = _messages()
    first = Counter(_deliver(uow, raw, settings).outcome for raw in corpus)
    records = list(uow.session.scalars(select(InboundRecord)))

    assert sum(first.values()) == len(corpus)
    # Messages of the corpus that share a Message-ID are one message, taken once.
    assert len(records) == len(corpus) - first[IngestOutcome.duplicate]
    assert all(r.outcome != "pending" for r in records)
    assert all(r.raw_sha256 for r in records)
    assert all(r.reason for r in records if r.outcome in ("ignored", "bounce", "quarantined"))
    assert first[IngestOutcome.ticket_opened] == uow.session.scalar(
        select(func.count()).select_from(Ticket)
    )
    taken = first[IngestOutcome.ticket_opened] + first[IngestOutcome.message_added]
    assert uow.session.scalar(select(func.count()).select_from(Message)) == taken

    again = Counter(_deliver(uow, raw, settings).outcome for raw in corpus)

    assert again == {IngestOutcome.duplicate: len(corpus)}
    assert uow.session.scalar(select(func.count()).select_from(InboundRecord)) == len(records)
