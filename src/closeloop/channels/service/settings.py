"""What ingest needs from the server's settings, and the raw-message store.

Channels call ``ingest(uow, message, via=...)`` without settings: the composition root
(``wiring.configure_channels``, run by ``create_app`` and the workers) installs them once per
process with :func:`configure_ingest`. A caller may pass its own (tests, the admin API).
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from closeloop.channels.email.threading import SubjectWindow
from closeloop.kit.logging import get_logger
from closeloop.tickets.attachment_store import AttachmentStore, SizeLimitExceeded

if TYPE_CHECKING:
    from closeloop.config import Settings

log = get_logger(__name__)

DEFAULT_MAX_RAW_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class IngestSettings:
    attachments_dir: Path
    # Raw messages, content-addressed like attachments: ``raw_dir/ab/cd/<sha256>``.
    raw_dir: Path
    max_attachment_bytes: int
    blocked_extensions: tuple[str, ...]
    # Addresses we send from (lower case): mail from them is a loop. Email transport adds its
    # mailboxes' addresses (``dataclasses.replace``).
    own_addresses: frozenset[str] = frozenset()
    subject_window: SubjectWindow = field(default_factory=SubjectWindow)
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestSettings:
        own = parseaddr(settings.mail_from)[1].strip().lower()
        days = settings.inbound_subject_window_days
        return cls(
            attachments_dir=settings.attachments_dir,
            raw_dir=settings.data_dir / "inbound",
            max_attachment_bytes=settings.max_attachment_bytes,
            blocked_extensions=tuple(settings.blocked_attachment_extensions),
            own_addresses=frozenset({own}) if "@" in own else frozenset(),
            subject_window=SubjectWindow(is_enabled=days > 0, window=timedelta(days=max(days, 1))),
        )

    def with_own_addresses(self, addresses: frozenset[str]) -> IngestSettings:
        return IngestSettings(
            attachments_dir=self.attachments_dir,
            raw_dir=self.raw_dir,
            max_attachment_bytes=self.max_attachment_bytes,
            blocked_extensions=self.blocked_extensions,
            own_addresses=self.own_addresses | {a.strip().lower() for a in addresses},
            subject_window=self.subject_window,
            max_raw_bytes=self.max_raw_bytes,
        )

    @property
    def attachment_store(self) -> AttachmentStore:
        return AttachmentStore(self.attachments_dir)

    @property
    def raw_store(self) -> AttachmentStore:
        return AttachmentStore(self.raw_dir)


_lock = threading.Lock()
_configured: IngestSettings | None = None


def configure_ingest(settings: IngestSettings) -> None:
    """Install the settings ingest uses when its caller passes none (once per process)."""
    global _configured
    with _lock:
        _configured = settings


def current_ingest_settings() -> IngestSettings:
    """The installed settings; a process that installed none reads them from the environment
    (as ``closeloop serve`` and ``closeloop worker`` would)."""
    global _configured
    with _lock:
        if _configured is None:
            from closeloop.config import Settings  # ingest needs no secret: plain settings

            _configured = IngestSettings.from_settings(Settings())
            log.warning("channels.ingest_settings_from_environment")
        return _configured


# --- raw messages ---------------------------------------------------------------------------


def store_raw(settings: IngestSettings, raw: bytes) -> str | None:
    """Write the raw bytes (before the commit; idempotent: identical bytes are stored once).
    None when they pass the size limit (the record says so)."""
    store = settings.raw_store
    digest = hashlib.sha256(raw).hexdigest()
    if len(raw) <= settings.max_raw_bytes and store.path_of(digest).exists():
        return digest  # the same bytes came before (a re-delivery, a forward of a forward)
    try:
        return store.save(io.BytesIO(raw), max_bytes=settings.max_raw_bytes).sha256
    except SizeLimitExceeded:
        log.warning("channels.raw_too_large", size=len(raw))
        return None


def open_stored(settings: IngestSettings, sha256: str) -> BinaryIO:
    return settings.raw_store.open(sha256)


def read_stored(settings: IngestSettings, sha256: str) -> bytes:
    with open_stored(settings, sha256) as stored:
        return stored.read()
