"""What the inbound record of a message tells the pages that show it."""

from __future__ import annotations

from closeloop.channels import repository
from closeloop.channels.service.settings import (
    IngestSettings,
    current_ingest_settings,
    read_stored,
)
from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger

log = get_logger(__name__)


def inline_attachment_ids(uow: UnitOfWork, *, message_id: int) -> dict[str, int]:
    """For a message that came in through a channel: ``Content-ID`` → attachment id of its
    inline images, so a page can show ``<img src="cid:…">`` in place. Empty for any other
    message. (The caller has already checked that the reader may see the message.)"""
    row = repository.inbound_of_message(uow.session, message_id)
    if row is None:
        return {}
    found: dict[str, int] = {}
    for item in (row.details or {}).get("attachments", []):
        content_id, attachment_id = item.get("content_id"), item.get("attachment_id")
        if item.get("inline") and content_id and isinstance(attachment_id, int):
            found[str(content_id).strip("<>")] = attachment_id
    return found


def raw_message_for(
    uow: UnitOfWork, *, message_id: int, settings: IngestSettings | None = None
) -> bytes | None:
    """The raw bytes a message came in as (an email as received), if they were kept; None for
    any other message. For the ticket page's "view original email" (the caller has already
    checked that the reader may see the message)."""
    row = repository.inbound_of_message(uow.session, message_id)
    if row is None or row.raw_sha256 is None:
        return None
    try:
        return read_stored(settings or current_ingest_settings(), row.raw_sha256)
    except FileNotFoundError:
        log.error("channels.raw_missing", inbound_id=row.id, sha256=row.raw_sha256)
        return None
