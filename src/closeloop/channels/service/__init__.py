"""Use cases of the inbound pipeline. Callers alias the import:
``from closeloop.channels import service as channel_service``. Nothing here commits."""

from closeloop.channels.service.addresses import is_address_failing
from closeloop.channels.service.ingest import (
    ingest,
    quarantine_raw,
    register_raw_parser,
    release_quarantined,
)
from closeloop.channels.service.quarantine import (
    discard_quarantined,
    get_inbound,
    list_quarantine,
    open_raw_message,
)
from closeloop.channels.service.records import inline_attachment_ids, raw_message_for
from closeloop.channels.service.references import (
    ReferenceDirection,
    email_references_for_ticket,
    remember_email_reference,
    tickets_for_message_ids,
)
from closeloop.channels.service.settings import (
    IngestSettings,
    configure_ingest,
    current_ingest_settings,
)

__all__ = [
    "IngestSettings",
    "ReferenceDirection",
    "configure_ingest",
    "current_ingest_settings",
    "discard_quarantined",
    "email_references_for_ticket",
    "get_inbound",
    "ingest",
    "inline_attachment_ids",
    "is_address_failing",
    "list_quarantine",
    "open_raw_message",
    "quarantine_raw",
    "raw_message_for",
    "register_raw_parser",
    "release_quarantined",
    "remember_email_reference",
    "tickets_for_message_ids",
]
