"""Which ticket an email belongs to, from its headers and subject (pure).

The inbound service asks, in this order (see ``docs/subsystems/channels.md``):

1. ``candidate_message_ids``: the Message-IDs it answers (In-Reply-To, then References newest
   first), looked up among the Message-IDs we stored for each ticket;
2. ``ticket_number_in_subject``: a ticket number such as ``[TK-000123]`` in the subject, trusted
   only when the sender may read that ticket;
3. ``SubjectWindow``: the same sender with the same normalised subject within a window
   (default on, 7 days) on a ticket that is not closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from closeloop.kit.ids import parse_ticket_number

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"^[^<>\s]+@[^<>\s]+$")
# A ticket number anywhere in a subject: TK- and digits, as a word of its own; the bracketed
# form ("[TK-000123]", what our own subjects carry) wins over a bare one.
_BRACKETED_NUMBER = re.compile(r"\[\s*(TK-\d{1,18})\s*\]", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"(?<![\w-])(TK-\d{1,18})(?![\w-])", re.IGNORECASE)
MAX_MESSAGE_ID_LENGTH = 500


def normalise_message_id(value: str) -> str | None:
    """``<abc@example.com>`` and ``abc@example.com`` are the same id: stored without brackets,
    case kept (the part before @ is case-sensitive). None when it is not a Message-ID."""
    text = value.strip()
    found = _MESSAGE_ID.search(text)
    candidate = found.group(1) if found else text
    if not candidate or " " in candidate or len(candidate) > MAX_MESSAGE_ID_LENGTH:
        return None
    if found is None and _BARE_ID.match(candidate) is None:
        return None
    return candidate


def message_ids_in(value: str) -> list[str]:
    """Every Message-ID in a header value, in order (a References header holds many)."""
    bracketed = [m for m in _MESSAGE_ID.findall(value) if len(m) <= MAX_MESSAGE_ID_LENGTH]
    if bracketed:
        return bracketed
    single = normalise_message_id(value)
    return [single] if single else []


def candidate_message_ids(in_reply_to: str | None, references: Iterable[str]) -> tuple[str, ...]:
    """The ids an email answers, most specific first: In-Reply-To, then References from the
    newest (last) to the oldest, without repeats."""
    ordered: list[str] = []
    if in_reply_to:
        ordered.extend(message_ids_in(in_reply_to))
    referenced: list[str] = []
    for value in references:
        referenced.extend(message_ids_in(value))
    ordered.extend(reversed(referenced))
    return tuple(dict.fromkeys(ordered))


def ticket_number_in_subject(subject: str) -> int | None:
    """The ticket id named in the subject (``[TK-000123]`` preferred, else ``TK-000123`` as a
    word anywhere), read with ``kit.ids.parse_ticket_number``."""
    for pattern in (_BRACKETED_NUMBER, _BARE_NUMBER):
        found = pattern.search(subject)
        if found is not None:
            number = parse_ticket_number(found.group(1))
            if number is not None and number > 0:
                return number
    return None


@dataclass(frozen=True, slots=True)
class SubjectWindow:
    """Same sender + same normalised subject within ``window`` continues that ticket.

    On by default with 7 days: people write "one more thing" with a fresh email rather than a
    reply, and a new ticket each time splits the conversation. A ticket that is closed is never
    continued this way (that takes a reply or the ticket number, which open a follow-up).
    """

    is_enabled: bool = True
    window: timedelta = timedelta(days=7)

    def since(self, received_at: datetime) -> datetime | None:
        """The earliest instant an earlier message may have arrived at; None when off."""
        if not self.is_enabled or self.window <= timedelta(0):
            return None
        return received_at - self.window
