"""A call centre's call record as a ticket's subject and body (pure: no I/O, no clock).

The record's shape is ``schemas.CallRecordIn``; the texts are in the organisation's language,
times in its time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from closeloop.kit.i18n import _


@dataclass(frozen=True, slots=True)
class CallFacts:
    call_id: str
    phone: str  # the customer's number, normalised (E.164)
    other_party: str | None  # the number of our side (the callee of an inbound call)
    is_inbound: bool
    started_at: datetime
    duration_seconds: int
    recording_url: str | None
    agent_note: str


def display_phone(e164: str) -> str:
    """``+8613800138000`` → ``+86 138 0013 8000``; other numbers as they are."""
    if e164.startswith("+86") and len(e164) == 14 and e164[3] == "1":
        digits = e164[3:]
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    return e164


def format_duration(seconds: int, locale: str) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes == 0:
        return _("{seconds} s").render(locale, seconds=rest)
    return _("{minutes} min {seconds} s").render(locale, minutes=minutes, seconds=rest)


def _local(at: datetime, time_zone: str) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def call_subject(facts: CallFacts, locale: str) -> str:
    phone = display_phone(facts.phone)
    if facts.is_inbound:
        return _("Call from {phone}").render(locale, phone=phone)
    return _("Call to {phone}").render(locale, phone=phone)


def call_body(facts: CallFacts, locale: str, time_zone: str) -> str:
    """One fact a line, then the agent's note."""
    direction = _("inbound") if facts.is_inbound else _("outbound")
    lines = [
        _("Direction: {direction}").render(locale, direction=direction.render(locale)),
        _("Customer number: {phone}").render(locale, phone=display_phone(facts.phone)),
    ]
    if facts.other_party:
        lines.append(_("Our number: {phone}").render(locale, phone=facts.other_party))
    lines += [
        _("Started: {at}").render(locale, at=_local(facts.started_at, time_zone)),
        _("Duration: {duration}").render(
            locale, duration=format_duration(facts.duration_seconds, locale)
        ),
        _("Call id: {call_id}").render(locale, call_id=facts.call_id),
    ]
    if facts.recording_url:
        lines.append(_("Recording: {url}").render(locale, url=facts.recording_url))
    text = "\n".join(lines)
    note = facts.agent_note.strip()
    if note:
        text += "\n\n" + _("Agent note:").render(locale) + "\n" + note
    return text
