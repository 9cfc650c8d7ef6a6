"""Identifiers people read: ticket numbers such as ``TK-000123``."""

from __future__ import annotations

import re

NUMBER_DIGITS = 6
_NUMBER_PATTERN = re.compile(r"^\s*#?(?:(?P<prefix>[A-Za-z]{1,8})-)?(?P<digits>\d{1,18})\s*$")


def format_ticket_number(ticket_id: int, prefix: str = "TK") -> str:
    return f"{prefix}-{ticket_id:0{NUMBER_DIGITS}d}"


def parse_ticket_number(text: str) -> int | None:
    """Return the ticket id in ``TK-000123``, ``tk-123``, ``#123`` or ``123``; None otherwise."""
    match = _NUMBER_PATTERN.match(text)
    if match is None:
        return None
    return int(match.group("digits"))
