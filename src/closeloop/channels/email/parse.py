"""One raw RFC 5322 message (bytes) → an ``InboundMessage`` (pure: no database, no clock).

``parse_message`` never raises anything but ``UnparseableMessage``: whatever the email package
or this module trips over becomes one, with the original exception type in its reason, so the
caller can quarantine the message with a reason an admin can read.

What is kept and why: docs/subsystems/channels-email.md ("Parsing").
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import EmailPolicy, compat32
from typing import Any

from closeloop.accounts.domain import IdentityKind
from closeloop.channels.base import InboundAttachment, InboundMessage, SenderIdentity
from closeloop.channels.email import decoding
from closeloop.channels.email.quoting import fold_points, split_quoted
from closeloop.kit.sanitize import html_to_text, sanitize_html
from closeloop.tickets.domain import Channel

__all__ = ["UnparseableMessage", "parse_message", "split_quoted"]

# Headers the pipeline's loop, auto-reply and bounce detection reads (first value of each).
LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "list-unsubscribe",
    "x-loop",
    "return-path",
    "content-type",
    "from",
    "x-failed-recipients",
)
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
_STATUS_REPORT_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
    }
)
_DELIVERY_STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
# Extensions for attachments without a file name; a fixed table, not the host's mime.types.
_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "text/calendar": "ics",
    "text/csv": "csv",
    "text/rfc822-headers": "txt",
    "text/x-vcard": "vcf",
    "text/vcard": "vcf",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/webp": "webp",
    "image/tiff": "tif",
    "image/svg+xml": "svg",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/gzip": "gz",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/ms-tnef": "dat",
    "application/vnd.ms-tnef": "dat",
    "application/pgp-signature": "asc",
    "application/pkcs7-signature": "p7s",
    "application/x-pkcs7-signature": "p7s",
    "application/json": "json",
    "application/xml": "xml",
    "message/rfc822": "eml",
    "message/global": "eml",
    "message/delivery-status": "txt",
    "message/global-delivery-status": "txt",
    "message/disposition-notification": "txt",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
}
_MAX_DEPTH = 40
# Outlook's own format (a compound file) sometimes arrives where an .eml was expected.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_FILENAME = 180
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_ADDRESS = re.compile(r"[^\s<>()\[\]\",;:@]+@[^\s<>()\[\]\",;:@]+")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_STATUS_CODE = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)


class UnparseableMessage(Exception):
    """The bytes are not a message closeloop can take; ``reason`` says why (English, short)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TolerantPolicy(EmailPolicy):
    """``policy.default``, except that a header whose parse raises falls back to compat32.

    The modern header parser raises on some malformed headers (the parser itself reads
    Content-Type and friends while splitting parts); compat32 hands back the raw value.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        try:
            return super().header_fetch_parse(name, value)
        except Exception:
            fallback = compat32.header_fetch_parse(name, value)
            return fallback if isinstance(fallback, str) else value


_POLICY = _TolerantPolicy()


def parse_message(
    raw: bytes, *, received_at: datetime, team_id: int | None = None
) -> InboundMessage:
    """Parse one raw message. Raises ``UnparseableMessage`` (only) when it cannot be taken."""
    try:
        return _parse(bytes(raw), received_at=received_at, team_id=team_id)
    except UnparseableMessage:
        raise
    except RecursionError as error:  # hostile nesting: the standard library's parser recurses
        raise UnparseableMessage("MIME parts nested too deeply (RecursionError)") from error
    except Exception as error:  # the contract: nothing but UnparseableMessage escapes
        detail = str(error).replace("\n", " ")[:160]
        raise UnparseableMessage(f"{type(error).__name__} while parsing: {detail}") from error


# -- headers ---------------------------------------------------------------------------------


def _raw_headers(part: Message) -> list[tuple[str, str]]:
    return [(name.strip().lower(), value) for name, value in part.raw_items()]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


def _all(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def _split_addresses(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, names still encoded.

    The addresses are split before encoded words are decoded, so that an encoded comma in a
    display name (``=?iso-8859-1?Q?Last=2C_First?=``) cannot split one address into two.
    """
    text = decoding.unfold(value)
    pairs = [(name, address.strip()) for name, address in email.utils.getaddresses([text])]
    usable = [(name, address) for name, address in pairs if _is_address(address)]
    if usable:
        return usable
    return [("", address) for address in _ADDRESS.findall(text)]


def _is_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain) and not any(char.isspace() for char in address)


def _addresses(values: list[str]) -> list[str]:
    found: dict[str, None] = {}
    for value in values:
        for _name, address in _split_addresses(value):
            found.setdefault(decoding.header_text(address).lower(), None)
    return [address for address in found if _is_address(address)]


def _sender_candidates(value: str) -> list[tuple[str, str]]:
    """Like ``_split_addresses``, but an address in angle brackets wins.

    ``From: someone@bank.example <other@elsewhere.example>`` (an unquoted address used as
    a display name, common in phishing) is split into two addresses by the parsers; mail
    programs show, and reply to, the one in angle brackets.
    """
    pairs = _split_addresses(value)
    text = decoding.unfold(value)
    match = next((m for m in _ANGLE_ID.finditer(text) if _is_address(m.group(1).strip())), None)
    if match is not None and pairs and pairs[0][1].lower() != match.group(1).strip().lower():
        before = text[: match.start()].strip().strip('"').strip()
        return [(before, match.group(1).strip()), *pairs]
    return pairs


def _sender(headers: list[tuple[str, str]]) -> SenderIdentity:
    # From, not Reply-To: the sender can write either header, so Reply-To is no more
    # trustworthy, and From is who the customer is (their identity, their tickets). Replies go
    # where the pipeline decides, not blindly to Reply-To.
    value = _first(headers, "from")
    if value is None or not value.strip():
        raise UnparseableMessage("no From address")
    for name, address in _sender_candidates(value):
        text = decoding.header_text(address).lower()
        if _is_address(text):
            display = decoding.header_text(name) if name else ""
            return SenderIdentity(kind=IdentityKind.email, value=text, name=display or None)
    raise UnparseableMessage("no address in From header")


def _message_ids(value: str | None) -> list[str]:
    """The ids of a Message-ID, In-Reply-To or References header, without angle brackets.

    Without brackets (some mailers), the words that look like ids (``local@domain``) count.
    """
    if value is None:
        return []
    text = decoding.header_text(value)
    bracketed = [found.strip() for found in _ANGLE_ID.findall(text)]
    ids = [found for found in bracketed if found]
    if not bracketed:
        ids = [token for token in re.split(r"[\s,]+", text) if "@" in token]
    return list(dict.fromkeys(ids))


def _external_id(headers: list[tuple[str, str]], raw: bytes) -> str:
    # A Message-ID without "@" ("<1>", "12345") is too likely to be used by someone else too:
    # taken as the key, a stranger's message would be dropped as a duplicate.
    ids = [found for found in _message_ids(_first(headers, "message-id")) if "@" in found]
    if ids:
        return ids[0]
    # No usable Message-ID: the same bytes delivered twice still deduplicate.
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(decoding.header_text(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": the zone is unknown; RFC 5322 says the time is UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


# -- body and attachments --------------------------------------------------------------------


@dataclass
class _Walk:
    attachments: list[InboundAttachment] = field(default_factory=list)
    dsn: dict[str, Any] | None = None


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def extend(self, other: _Body) -> None:
        self.plain.extend(other.plain)
        self.html.extend(other.html)


def _content_type(part: Message) -> str:
    """The part's type as the email package reads it (with RFC 2046 defaults), if well formed."""
    content_type = part.get_content_type()
    return content_type if _MIME_TYPE.fullmatch(content_type) else "application/octet-stream"


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message, parameters: dict[str, str], *, html: bool) -> str:
    data = _payload_bytes(part)
    declared = parameters.get("charset")
    if declared is None and html:
        meta = _META_CHARSET.search(data[:4096])
        declared = meta.group(1).decode("ascii") if meta else None
    return decoding.clean_text(decoding.decode_bytes(data, declared))


def _safe_filename(name: str, *, is_path: bool = True) -> str:
    """A file name safe to store and offer for download (a path keeps only its last part)."""
    base = re.split(r"[/\\]", name)[-1] if is_path else name
    cleaned = _UNSAFE_FILENAME.sub("_", base).strip(" ._")
    if len(cleaned) > _MAX_FILENAME:
        _stem, dot, extension = cleaned.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        cleaned = cleaned[: _MAX_FILENAME - len(keep) - 1].rstrip(" .") + (
            "." + keep if keep else ""
        )
    return cleaned


def _fallback_filename(number: int, content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type)
    if extension is None:
        extension = "txt" if content_type.startswith("text/") else "bin"
    return f"attachment-{number}.{extension}"


def _generate(message: Message) -> bytes:
    """The bytes of a parsed (sub-)message, written with compat32 (which never re-parses)."""
    try:
        return message.as_bytes(policy=compat32)
    except Exception:
        return decoding.raw_bytes(message.as_string(policy=compat32))


def _message_part_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        return b"\n".join(_generate(inner) for inner in payload if isinstance(inner, Message))
    return _payload_bytes(part)


def _attached_message_name(part: Message) -> str:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return ""
    subject = _first(_raw_headers(inner), "subject")
    name = _safe_filename(decoding.header_text(subject), is_path=False) if subject else ""
    return f"{name[: _MAX_FILENAME - 4]}.eml" if name else ""


def _add_attachment(
    walk: _Walk,
    *,
    name: str,
    content_type: str,
    content: bytes,
    content_id: str | None,
    disposition: str,
) -> None:
    number = len(walk.attachments) + 1
    filename = _safe_filename(name) if name else ""
    walk.attachments.append(
        InboundAttachment(
            filename=filename or _fallback_filename(number, content_type),
            content_type=content_type,
            content=content,
            # Shown in place: a part the HTML can reference by cid: and that is not marked
            # as a download.
            inline=content_id is not None and disposition != "attachment",
            content_id=content_id,
        )
    )


def _walk(part: Message, walk: _Walk, *, depth: int, is_root: bool) -> _Body:
    body = _Body()
    if depth > _MAX_DEPTH:
        return body
    content_type = _content_type(part)
    headers = _raw_headers(part)
    type_value = _first(headers, "content-type") or ""
    disposition_value = _first(headers, "content-disposition") or ""
    type_parameters = decoding.parameters(type_value, "Content-Type") if type_value else {}

    if part.is_multipart() and content_type.startswith("multipart/"):
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        bodies = [_walk(child, walk, depth=depth + 1, is_root=False) for child in children]
        if content_type == "multipart/alternative":
            # The richest alternative is last (RFC 2046); keep the last plain and last HTML.
            body.plain = next((found.plain for found in reversed(bodies) if found.plain), [])
            body.html = next((found.html for found in reversed(bodies) if found.html), [])
        else:
            for found in bodies:
                body.extend(found)
        return body

    disposition = decoding.first_token(disposition_value) if disposition_value else ""
    disposition_parameters = (
        decoding.parameters(disposition_value, "Content-Disposition") if disposition_value else {}
    )
    name = disposition_parameters.get("filename") or type_parameters.get("name") or ""
    content_id_value = _first(headers, "content-id")
    content_id = None
    if content_id_value is not None:
        content_id = decoding.header_text(content_id_value).strip().strip("<>").strip() or None

    is_text = content_type in ("text/plain", "text/html")
    if is_text and disposition != "attachment" and (not name or is_root):
        text = _text_of(part, type_parameters, html=content_type == "text/html")
        (body.html if content_type == "text/html" else body.plain).append(text)
        return body

    if content_type.startswith("multipart/"):
        # A multipart without a usable boundary: its body is all there is; show it as text.
        body.plain.append(_text_of(part, type_parameters, html=False))
        return body

    if content_type in _DELIVERY_STATUS_TYPES and walk.dsn is None:
        walk.dsn = _delivery_status(part)
    if content_type.startswith("message/"):
        content = _message_part_bytes(part)
        if content_type not in _STATUS_REPORT_TYPES:
            # An attached message: a file named after its subject; its body is not ours.
            name = _attached_message_name(part) or name
    else:
        content = _payload_bytes(part)
    _add_attachment(
        walk,
        name=name,
        content_type=content_type,
        content=content,
        content_id=content_id,
        disposition=disposition,
    )
    return body


def _status_fields(text: str) -> list[dict[str, str]]:
    """The field blocks of a delivery-status body (RFC 3464): blank-line separated."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in [*text.split("\n"), ""]:  # the blank line closes the last block
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
        elif line[:1] in " \t" and last is not None:
            current[last] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            current.setdefault(last, value.strip())
    return blocks


def _typed_value(value: str | None) -> str | None:
    """``rfc822; user@example.com`` → ``user@example.com`` (the address type dropped)."""
    if value is None:
        return None
    kind, semicolon, rest = value.partition(";")
    return (rest if semicolon else kind).strip() or None


def _delivery_status(part: Message) -> dict[str, Any]:
    text = decoding.clean_text(decoding.decode_bytes(_message_part_bytes(part)))
    recipients = [block for block in _status_fields(text) if "action" in block or "status" in block]
    failed = [block for block in recipients if block.get("action", "").lower() == "failed"]
    chosen = (failed or recipients or [{}])[0]
    status = chosen.get("status")
    status_code = _STATUS_CODE.search(status) if status else None
    final = _typed_value(chosen.get("final-recipient") or chosen.get("original-recipient"))
    failed_recipients = [
        address.lower()
        for address in (_typed_value(block.get("final-recipient")) for block in failed)
        if address
    ]
    return {
        "final_recipient": final.lower() if final else None,
        "action": chosen.get("action", "").lower() or None,
        "status": status_code.group(0) if status_code else (status or None),
        "diagnostic": _typed_value(chosen.get("diagnostic-code")),
        "failed_recipients": failed_recipients,
    }


# -- assembly --------------------------------------------------------------------------------


def _parse(raw: bytes, *, received_at: datetime, team_id: int | None) -> InboundMessage:
    if raw.startswith(_OLE_SIGNATURE):
        raise UnparseableMessage("an Outlook .msg file, not an RFC 5322 message")
    message = email.message_from_bytes(raw, policy=_POLICY)
    headers = _raw_headers(message)
    sender = _sender(headers)

    walk = _Walk()
    body = _walk(message, walk, depth=0, is_root=True)
    body_html = sanitize_html("\n".join(body.html)) if body.html else None
    if body_html is not None and not body_html.strip():
        body_html = None
    body_text = "\n\n".join(body.plain)
    if not body_text.strip() and body_html is not None:
        body_text = html_to_text(body_html)
    quote_start, signature_start = fold_points(body_text)

    subject = _first(headers, "subject")
    in_reply_to = _message_ids(_first(headers, "in-reply-to"))
    references = [found for value in _all(headers, "references") for found in _message_ids(value)]
    content_type = _content_type(message)
    metadata: dict[str, Any] = {"content_type": content_type}
    date = _date(_first(headers, "date"))
    if date is not None:
        metadata["date"] = date
    if content_type == "multipart/report":
        type_value = _first(headers, "content-type") or ""
        report_type = decoding.parameters(type_value, "Content-Type").get("report-type")
        if report_type:
            metadata["report_type"] = report_type.lower()
    if walk.dsn is not None:
        metadata["dsn"] = walk.dsn
    if quote_start is not None:
        metadata["quote_start"] = quote_start
    if signature_start is not None:
        metadata["signature_start"] = signature_start

    return InboundMessage(
        channel=Channel.email,
        external_id=_external_id(headers, raw),
        sender=sender,
        subject=decoding.header_text(subject) if subject is not None else "",
        body_text=body_text,
        received_at=received_at,
        body_html=body_html,
        attachments=tuple(walk.attachments),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(dict.fromkeys(references)),
        headers={
            name: decoding.header_text(value)
            for name in LOOP_HEADERS
            if (value := _first(headers, name)) is not None
        },
        recipients=tuple(
            _addresses([value for name in RECIPIENT_HEADERS for value in _all(headers, name)])
        ),
        raw=raw,
        team_id=team_id,
        metadata=metadata,
    )
