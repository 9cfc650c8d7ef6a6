"""structlog set-up that keeps secrets and personal data out of the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "token",
        "authorization",
        "cookie",
        "secret",
        "secret_key",
        "api_key",
        "email",
        "phone",
        "body",
        "description",
        "openid",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone-like: an optional +country code, then groups of 3-4 digits split by a space or a dash,
# 8 digits or more in all. Dates (2026-11-25) and times do not have such groups.
_PHONE = re.compile(r"(?<![\w-])\+?\d{1,4}(?:[ -]?\d{3,4}){1,3}(?![\w-])")
_PHONE_MIN_DIGITS = 8


def _redact_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return REDACTED if digits >= _PHONE_MIN_DIGITS else match.group(0)


def redact_text(text: str) -> str:
    return _PHONE.sub(_redact_phone, _EMAIL.sub(REDACTED, text))


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(event_dict[key], str):
            event_dict[key] = redact_text(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    logging.basicConfig(format="%(message)s", level=level)
    # Plain tracebacks: rich's pretty ones print local variables, which may hold personal data.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            # Redact before stamping: a timestamp looks like a phone number to the pattern.
            redact_event,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
