"""What the public pages and the agent's new-ticket page share: custom fields as form inputs,
uploaded files checked by the tickets' attachment rules, the visitor's address, downloads.

Everything is checked here, before a message goes to ``channels.service.ingest``: a problem
the visitor can fix is shown next to its field with the entered values kept, instead of the
message ending up in quarantine.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.requests import Request

from closeloop.accounts.domain import SYSTEM
from closeloop.channels.base import InboundAttachment
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError, ValidationFailed
from closeloop.kit.i18n import LazyString, _, normalise_locale
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import (
    FIELD_PATH_PREFIX,
    FieldSpec,
    FieldType,
    validate_custom_fields,
)
from closeloop.tickets.custom_fields.schemas import CustomFieldRead
from closeloop.tickets.domain import TicketType
from closeloop.tickets.errors import (
    AttachmentExtensionBlocked,
    AttachmentRejected,
    AttachmentTooLarge,
)
from closeloop.tickets.service.attachments import (
    blocked_extension,
    is_disguised_executable,
    normalise_media_type,
    sanitise_filename,
)

FIELD_PREFIX = "cf_"
MAX_FILES = 10
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

_CODE_MESSAGES: Mapping[str, LazyString] = {
    "required": _("This field is required."),
    "wrong_type": _("This value has the wrong type."),
    "too_long": _("This is too long."),
    "not_an_option": _("Choose one of the options."),
    "invalid_date": _("Enter a date as YYYY-MM-DD."),
    "unknown_field": _("There is no such field."),
}


FormErrors = list[dict[str, str]]


def error(field_name: str, message: LazyString, locale: str, **params: Any) -> dict[str, str]:
    return {"field": field_name, "message": message.render(locale, **params)}


# --- custom fields -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldInput:
    """One custom field as a form input: its definition, label in the visitor's language and
    the value entered so far."""

    key: str
    name: str
    label: str
    field_type: str
    is_required: bool
    options: tuple[str, ...]
    value: str = ""


def definitions(uow: UnitOfWork, ticket_type: TicketType) -> list[CustomFieldRead]:
    """The active fields tickets of ``ticket_type`` carry, in display order."""
    found = custom_fields.list_custom_fields(uow, actor=SYSTEM, ticket_type=ticket_type)
    return [CustomFieldRead.of(definition) for definition in found]


def field_inputs(
    found: Sequence[CustomFieldRead], values: Mapping[str, str], locale: str
) -> list[FieldInput]:
    chinese = normalise_locale(locale) == "zh_CN"
    return [
        FieldInput(
            key=d.key,
            name=FIELD_PREFIX + d.key,
            label=(d.label_zh or d.label_en) if chinese else d.label_en,
            field_type=d.field_type.value,
            is_required=d.is_required,
            options=tuple(d.options),
            value=values.get(FIELD_PREFIX + d.key, ""),
        )
        for d in found
    ]


def entered(form: FormData) -> dict[str, str]:
    """The custom field inputs of a posted form, as text (to show them again)."""
    return {
        name: value.strip()
        for name, value in form.multi_items()
        if name.startswith(FIELD_PREFIX) and isinstance(value, str)
    }


def parse_custom_fields(
    found: Sequence[CustomFieldRead], raw: Mapping[str, str], locale: str
) -> tuple[dict[str, object], FormErrors]:
    """The values to store (decoded from the form's text) and the problems, per input name,
    checked with the same rules ``tickets.open_ticket`` applies."""
    values: dict[str, object] = {}
    errors: FormErrors = []
    for definition in found:
        name = FIELD_PREFIX + definition.key
        text = raw.get(name, "").strip()
        if not text:
            continue
        if definition.field_type == FieldType.number:
            number = _number(text)
            if number is None:
                errors.append(error(name, _("Enter a number."), locale))
                continue
            values[definition.key] = number
        else:
            values[definition.key] = text
    specs = [
        FieldSpec(
            key=d.key,
            field_type=d.field_type,
            is_required=d.is_required,
            options=tuple(d.options),
            label=d.label_en,
        )
        for d in found
    ]
    failed = {e["field"] for e in errors}
    try:
        cleaned = validate_custom_fields(specs, values)
    except ValidationFailed as problems:
        for problem in problems.errors:
            name = FIELD_PREFIX + str(problem.get("field", "")).removeprefix(FIELD_PATH_PREFIX)
            if name in failed:
                continue
            message = _CODE_MESSAGES.get(str(problem.get("code")), _("This value is not valid."))
            errors.append(error(name, message, locale))
        return values, errors
    return cleaned, errors


def _number(text: str) -> int | float | None:
    cleaned = text.replace(",", "").replace(" ", "")
    if _NUMBER.fullmatch(cleaned) is None:
        return None
    if re.fullmatch(r"[+-]?\d+", cleaned):
        return int(cleaned)
    value = float(cleaned)
    return value if math.isfinite(value) else None


# --- uploaded files -----------------------------------------------------------------------------


@dataclass(slots=True)
class CheckedFiles:
    attachments: list[InboundAttachment] = field(default_factory=list)
    errors: FormErrors = field(default_factory=list)


def uploads(form: FormData, name: str = "files") -> list[StarletteUpload]:
    return [
        item
        for item in form.getlist(name)
        if isinstance(item, StarletteUpload) and (item.filename or "").strip()
    ]


async def check_files(
    files: Sequence[StarletteUpload], settings: Settings, locale: str, *, field_name: str = "files"
) -> CheckedFiles:
    """Read the uploads and apply the tickets' attachment rules (name, blocked endings, size,
    disguised programs, empty files); each refusal is a message for the files input."""
    checked = CheckedFiles()
    if len(files) > MAX_FILES:
        checked.errors.append(
            error(field_name, _("Attach at most {count} files."), locale, count=MAX_FILES)
        )
        return checked
    limit = settings.max_attachment_bytes
    blocked = settings.blocked_attachment_extensions
    for upload in files:
        name = sanitise_filename(upload.filename)
        content = await upload.read(limit + 1)
        problem: DomainError | None = None
        ending = blocked_extension(name, blocked)
        declared = normalise_media_type(upload.content_type)
        if ending is not None:
            problem = AttachmentExtensionBlocked(filename=name, ending=ending)
        elif len(content) > limit:
            problem = AttachmentTooLarge(filename=name, limit=limit)
        elif not content:
            problem = AttachmentRejected(filename=name, reason=_("the file is empty."))
        elif is_disguised_executable(declared, content[:16]):
            problem = AttachmentRejected(filename=name, reason=_("it is a program, not an image."))
        if problem is not None:
            checked.errors.append({"field": field_name, "message": problem.render(locale)})
            continue
        checked.attachments.append(
            InboundAttachment(filename=name, content_type=declared, content=content)
        )
    return checked


# --- small things -------------------------------------------------------------------------------


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def via(request: Request) -> str:
    return f"web:{request.method} {request.url.path}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name per RFC 5987/6266."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def text_value(form: FormData, name: str, *, limit: int = 100_000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
