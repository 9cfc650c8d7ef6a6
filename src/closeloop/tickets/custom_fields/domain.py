"""Rules for custom field definitions and the values a ticket gives them (pure).

Values arrive as decoded JSON. Every problem is collected and reported at once, as a
:class:`~closeloop.kit.errors.ValidationFailed` whose errors name the field as
``custom_fields.<key>`` and carry a stable ``code``: ``unknown_field``, ``required``,
``wrong_type``, ``too_long``, ``not_an_option`` or ``invalid_date``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from closeloop.kit.errors import ValidationFailed

MAX_TEXT_LENGTH = 2000
FIELD_PATH_PREFIX = "custom_fields."

_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class FieldType(enum.StrEnum):
    text = "text"
    number = "number"
    date = "date"
    select = "select"


@dataclass(frozen=True)
class FieldSpec:
    """One custom field as an organisation defined it."""

    key: str
    field_type: FieldType
    is_required: bool
    options: tuple[str, ...] = ()
    label: str = ""

    @property
    def display_name(self) -> str:
        return self.label or self.key


class _InvalidValueError(Exception):
    """One value refused: carries the error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_custom_fields(
    specs: Sequence[FieldSpec], values: Mapping[str, object], *, partial: bool = False
) -> dict[str, object]:
    """Return the cleaned values, or raise ValidationFailed listing every problem.

    ``None`` clears a field, and so does blank text. Both are refused for a required field. A
    required field that is missing is refused unless ``partial`` (an update of some fields only,
    merged into the stored values by the caller). Errors come in the order of ``values`` for
    unknown keys, then in the order of ``specs``.
    """
    by_key = {spec.key: spec for spec in specs}
    if len(by_key) != len(specs):
        raise ValueError("custom field specs have duplicate keys")
    errors = [
        _error(key, "unknown_field", f"There is no custom field {key}.")
        for key in values
        if key not in by_key
    ]
    cleaned: dict[str, object] = {}
    for spec in specs:
        if spec.key not in values:
            if spec.is_required and not partial:
                errors.append(_required(spec))
            continue
        try:
            value = _clean(spec, values[spec.key])
        except _InvalidValueError as invalid:
            errors.append(_error(spec.key, invalid.code, invalid.message))
            continue
        if value is None and spec.is_required:
            errors.append(_required(spec))
            continue
        cleaned[spec.key] = value
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def validate_field_key(key: str) -> None:
    """Keys are lower-case ASCII identifiers of at most 64 characters, starting with a letter."""
    if _FIELD_KEY.fullmatch(key) is None:
        raise ValidationFailed(errors=[_key_error()])


def validate_definition(
    field_type: FieldType | str, options: Sequence[str], *, key: str | None = None
) -> None:
    """Check a field definition; ``key`` is checked too when given.

    A select needs at least one option, no blank and no duplicate options; other types take none.
    """
    errors: list[dict[str, str]] = []
    if key is not None and _FIELD_KEY.fullmatch(key) is None:
        errors.append(_key_error())
    if field_type not in set(FieldType):
        errors.append(
            {
                "field": "field_type",
                "code": "unknown_field_type",
                "message": f"The field type must be one of: {', '.join(FieldType)}.",
            }
        )
    elif field_type == FieldType.select:
        if not options:
            errors.append(_options_error("options_required", "A select field needs options."))
        if any(not option.strip() for option in options):
            errors.append(_options_error("blank_option", "Options cannot be blank."))
        if len(set(options)) != len(options):
            errors.append(_options_error("duplicate_option", "Options must be different."))
    elif options:
        errors.append(_options_error("options_not_allowed", "Only select fields have options."))
    if errors:
        raise ValidationFailed(errors=errors)


def _clean(spec: FieldSpec, value: object) -> object:
    if value is None:
        return None
    name = spec.display_name
    match spec.field_type:
        case FieldType.text:
            if not isinstance(value, str):
                raise _InvalidValueError("wrong_type", f"{name} must be text.")
            text = value.strip()
            if len(text) > MAX_TEXT_LENGTH:
                raise _InvalidValueError(
                    "too_long", f"{name} is longer than {MAX_TEXT_LENGTH} characters."
                )
            return text or None
        case FieldType.number:
            # bool is an int in Python but not a number in JSON.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _InvalidValueError("wrong_type", f"{name} must be a number.")
            if isinstance(value, float) and not math.isfinite(value):
                raise _InvalidValueError("wrong_type", f"{name} must be a finite number.")
            return value
        case FieldType.date:
            if not isinstance(value, str):
                raise _InvalidValueError("wrong_type", f"{name} must be a date written YYYY-MM-DD.")
            if _ISO_DATE.fullmatch(value) is None or not _is_calendar_date(value):
                raise _InvalidValueError(
                    "invalid_date", f"{name} must be a date written YYYY-MM-DD."
                )
            return value
        case FieldType.select:
            if not isinstance(value, str):
                raise _InvalidValueError("wrong_type", f"{name} must be one of the options.")
            if value not in spec.options:
                raise _InvalidValueError(
                    "not_an_option", f"{name} must be one of: {', '.join(spec.options)}."
                )
            return value


def _is_calendar_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _error(key: str, code: str, message: str) -> dict[str, str]:
    return {"field": FIELD_PATH_PREFIX + key, "code": code, "message": message}


def _required(spec: FieldSpec) -> dict[str, str]:
    return _error(spec.key, "required", f"{spec.display_name} is required.")


def _key_error() -> dict[str, str]:
    return {
        "field": "key",
        "code": "invalid_key",
        "message": "The key must start with a lower-case letter and contain only lower-case "
        "letters, digits and underscores (64 characters at most).",
    }


def _options_error(code: str, message: str) -> dict[str, str]:
    return {"field": "options", "code": code, "message": message}
