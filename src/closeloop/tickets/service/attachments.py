"""Attachments: uploading a file to a ticket and reading it back.

The bytes are written to the content-addressed store first and the row second, so a row never
points at a missing file. An upload is referenced afterwards by ``attachment_ids`` of a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import BinaryIO

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number
from closeloop.kit.logging import get_logger
from closeloop.tickets import permissions, repository
from closeloop.tickets.attachment_store import AttachmentStore, Readable, SizeLimitExceeded
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.errors import (
    AttachmentExtensionBlocked,
    AttachmentNotFound,
    AttachmentRejected,
    AttachmentTooLarge,
    TicketActionDenied,
    TicketClosed,
    TicketMerged,
)
from closeloop.tickets.models import Attachment, Message, Ticket
from closeloop.tickets.service._common import load_visible, record

log = get_logger(__name__)

MAX_FILENAME_LENGTH = 255
MAX_EXTENSION_LENGTH = 16
DEFAULT_FILENAME = "attachment"
OCTET_STREAM = "application/octet-stream"

# Leading bytes → the type they prove. Executables are recognised only to refuse disguises.
_MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
)
_EXECUTABLES = frozenset({"application/x-msdownload", "application/x-executable"})
# Types the bytes decide outright; a ZIP may be a .docx or .xlsx, so its declared type stays.
_DEFINITE = frozenset({"image/png", "image/jpeg", "image/gif", "application/pdf"})
_GENERIC = frozenset({"", OCTET_STREAM, "binary/octet-stream", "application/x-zip-compressed"})
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


# --- pure rules ----------------------------------------------------------------------------


def sanitise_filename(raw: str | None) -> str:
    """The last path part, without control or format characters (bidi overrides included) or
    characters Windows refuses, trimmed of dots and spaces, at most 255 characters with the
    extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = _WINDOWS_RESERVED.sub("_", name).strip(" .")
    if not name:
        return DEFAULT_FILENAME
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION_LENGTH:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip(" .")
    return name


def blocked_extension(filename: str, blocked: Iterable[str]) -> str | None:
    """The blocked ending ``filename`` has (compared without case), or None."""
    lowered = filename.lower()
    for ending in blocked:
        normalised = "." + ending.lower().lstrip(".")
        if lowered.endswith(normalised):
            return normalised
    return None


def sniff_content_type(head: bytes) -> str | None:
    for magic, media_type in _MAGIC_NUMBERS:
        if head.startswith(magic):
            return media_type
    return None


def normalise_media_type(declared: str | None) -> str:
    """``type/subtype`` in lower case without parameters; octet-stream when unusable."""
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else OCTET_STREAM


def is_disguised_executable(declared: str, head: bytes) -> bool:
    """A declared image whose bytes are a program (MZ or ELF)."""
    return declared.startswith("image/") and sniff_content_type(head) in _EXECUTABLES


def resolve_content_type(declared: str, head: bytes) -> str:
    """The type to store: images and PDFs as their bytes say, otherwise what was declared."""
    sniffed = sniff_content_type(head)
    if sniffed in _DEFINITE:
        return sniffed
    if sniffed in _EXECUTABLES:
        return OCTET_STREAM
    if sniffed == "application/zip" and declared in _GENERIC:
        return sniffed
    return declared


# --- use cases -----------------------------------------------------------------------------


def upload_attachment(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    filename: str | None,
    content_type: str | None,
    stream: Readable,
    store: AttachmentStore,
    max_bytes: int,
    blocked_extensions: Iterable[str],
    actor: Principal,
    via: str,
) -> Attachment:
    """Store a file for the ticket; a message then claims it through ``attachment_ids``."""
    ticket = load_visible(uow, ticket_id, actor)
    kind = MessageKind.customer_message if actor.is_customer else MessageKind.public_reply
    if not permissions.can_post(actor, kind):
        raise TicketActionDenied(action=_("attach files"))
    _check_open(ticket)
    name = sanitise_filename(filename)
    ending = blocked_extension(name, blocked_extensions)
    if ending is not None:
        raise AttachmentExtensionBlocked(filename=name, ending=ending)
    declared = normalise_media_type(content_type)
    heads: list[bytes] = []

    def inspect(head: bytes) -> None:
        if not head:
            raise AttachmentRejected(filename=name, reason=_("the file is empty."))
        if is_disguised_executable(declared, head):
            raise AttachmentRejected(filename=name, reason=_("it is a program, not an image."))
        heads.append(head)

    try:
        stored = store.save(stream, max_bytes=max_bytes, inspect_head=inspect)
    except SizeLimitExceeded as error:
        raise AttachmentTooLarge(filename=name, limit=error.limit) from error
    attachment = Attachment(
        ticket_id=ticket.id,
        filename=name,
        content_type=resolve_content_type(declared, heads[0]),
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_agent_id=actor.id if actor.is_agent else None,
        uploaded_by_customer_id=actor.id if actor.is_customer else None,
        created_at=uow.clock.now(),
    )
    uow.session.add(attachment)
    uow.session.flush()
    record(
        uow,
        ticket,
        action="attachment.uploaded",
        actor=actor,
        via=via,
        changes=[
            Change(
                "attachment",
                None,
                {"id": attachment.id, "filename": name, "size": stored.size},
            )
        ],
        is_public=actor.is_customer,
    )
    return attachment


def attach_file_to_message(
    uow: UnitOfWork,
    *,
    message_id: int,
    filename: str | None,
    content_type: str | None,
    stream: Readable,
    store: AttachmentStore,
    max_bytes: int,
    blocked_extensions: Iterable[str],
    via: str,
) -> Attachment:
    """Store a file fetched after its message was taken (a channel's media, downloaded by a job
    once the message had committed) and attach it to that customer message.

    The system attaches it on the author's behalf: no permission check, and the ticket may have
    closed meanwhile (the file is part of what the customer sent).
    """
    message = uow.session.get(Message, message_id)
    if message is None:
        raise AttachmentRejected(
            filename=filename or DEFAULT_FILENAME, reason=_("the message is gone.")
        )
    ticket = repository.get(uow.session, message.ticket_id)
    assert ticket is not None  # messages cascade with their ticket
    name = sanitise_filename(filename)
    ending = blocked_extension(name, blocked_extensions)
    if ending is not None:
        raise AttachmentExtensionBlocked(filename=name, ending=ending)
    declared = normalise_media_type(content_type)
    heads: list[bytes] = []

    def inspect(head: bytes) -> None:
        if not head:
            raise AttachmentRejected(filename=name, reason=_("the file is empty."))
        if is_disguised_executable(declared, head):
            raise AttachmentRejected(filename=name, reason=_("it is a program, not an image."))
        heads.append(head)

    try:
        stored = store.save(stream, max_bytes=max_bytes, inspect_head=inspect)
    except SizeLimitExceeded as error:
        raise AttachmentTooLarge(filename=name, limit=error.limit) from error
    attachment = Attachment(
        ticket_id=ticket.id,
        message_id=message.id,
        filename=name,
        content_type=resolve_content_type(declared, heads[0]),
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_agent_id=message.author_agent_id,
        uploaded_by_customer_id=message.author_customer_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(attachment)
    uow.session.flush()
    record(
        uow,
        ticket,
        action="attachment.uploaded",
        actor=SYSTEM,
        via=via,
        changes=[
            Change(
                "attachment",
                None,
                {
                    "id": attachment.id,
                    "filename": name,
                    "size": stored.size,
                    "message_id": message.id,
                },
            )
        ],
        is_public=MessageKind(message.kind).is_public,
    )
    return attachment


def get_attachment(uow: UnitOfWork, *, attachment_id: int, actor: Principal) -> Attachment:
    """The attachment if ``actor`` may read it; otherwise it does not exist for them.

    Staff read every attachment of a ticket they can read. Customers read those of public
    messages, and their own uploads that no message has claimed yet.
    """
    attachment = repository.attachment_by_id(uow.session, attachment_id)
    if (
        attachment is None
        or repository.get_visible(uow.session, attachment.ticket_id, actor) is None
    ):
        raise AttachmentNotFound(attachment_id=attachment_id)
    if permissions.can_see_internal(actor):
        return attachment
    if attachment.message_id is None:
        if actor.is_customer and attachment.uploaded_by_customer_id == actor.id:
            return attachment
        raise AttachmentNotFound(attachment_id=attachment_id)
    kind = repository.message_kind(uow.session, attachment.message_id)
    if kind is None or not MessageKind(kind).is_public:
        raise AttachmentNotFound(attachment_id=attachment_id)
    return attachment


def open_attachment(
    uow: UnitOfWork, *, attachment_id: int, actor: Principal, store: AttachmentStore
) -> tuple[Attachment, BinaryIO]:
    """The attachment and its bytes, opened for reading (the caller closes them)."""
    attachment = get_attachment(uow, attachment_id=attachment_id, actor=actor)
    try:
        content = store.open(attachment.sha256)
    except FileNotFoundError:
        log.error("attachment_file_missing", attachment_id=attachment.id, sha256=attachment.sha256)
        raise
    return attachment, content


def _check_open(ticket: Ticket) -> None:
    """Files go only to tickets that may still change (without locking the row: the upload may
    take a while, and an attachment row does not touch the ticket)."""
    number = format_ticket_number(ticket.id)
    if ticket.merged_into_id is not None:
        raise TicketMerged(number=number, survivor=format_ticket_number(ticket.merged_into_id))
    if ticket.status == "closed":
        raise TicketClosed(number=number)
