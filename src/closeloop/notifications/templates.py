"""Message templates per event, rendered in the recipient's language (zh_CN or en).

Every string goes through ``_()`` so ``make i18n`` puts it in the catalogues. Templates take named
parameters; a few have a meaning beyond plain text:

- ``target`` is an SLA target code (``first_response``, ``next_response``, ``resolution``) and is
  shown under its translated name;
- ``due_at`` is an ISO 8601 instant and is shown in the recipient's time zone.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from closeloop.kit.i18n import LazyString, _
from closeloop.notifications.domain import NotificationEvent


@dataclass(frozen=True, slots=True)
class Template:
    title: LazyString
    body: LazyString


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    title: str
    body: str


TEMPLATES: dict[NotificationEvent, Template] = {
    NotificationEvent.ticket_assigned: Template(
        title=_("Ticket {number} is assigned to you"),
        body=_("You are now the assignee of {number} “{subject}” (priority {priority})."),
    ),
    NotificationEvent.ticket_message_added: Template(
        title=_("New message on ticket {number}"),
        body=_("There is a new message on {number} “{subject}”."),
    ),
    NotificationEvent.sla_warning: Template(
        title=_("SLA warning: {target} of {number} is due soon"),
        body=_("The {target} target of {number} “{subject}” is due at {due_at}."),
    ),
    NotificationEvent.sla_breached: Template(
        title=_("SLA breached: {target} of {number}"),
        body=_("The {target} target of {number} “{subject}” was due at {due_at} and was missed."),
    ),
    NotificationEvent.sla_escalated: Template(
        title=_("Ticket {number} escalated (step {step})"),
        body=_("{number} “{subject}” was escalated because its {target} target was missed."),
    ),
    NotificationEvent.ticket_ping_pong: Template(
        title=_("Ticket {number} is going back and forth between teams"),
        body=_(
            "{number} “{subject}” was passed between teams {transfers} times. "
            "Please decide which team owns it."
        ),
    ),
    NotificationEvent.channel_test: Template(
        title=_("closeloop test message"),
        body=_("The notification channel “{channel}” is set up correctly."),
    ),
}

TARGET_NAMES: dict[str, LazyString] = {
    "first_response": _("first response"),
    "next_response": _("next response"),
    "resolution": _("resolution"),
}

EMAIL_FOOTER = _("This message was sent automatically by closeloop.")
EMAIL_TICKET_LINE = _("Ticket: {number}")


def required_params(event: NotificationEvent) -> frozenset[str]:
    """The parameter names the template of ``event`` needs."""
    template = TEMPLATES[event]
    names: set[str] = set()
    for text in (template.title.message, template.body.message):
        names.update(field for _l, field, _s, _c in string.Formatter().parse(text) if field)
    return frozenset(names)


def missing_params(event: NotificationEvent, params: Mapping[str, Any]) -> list[str]:
    return sorted(required_params(event) - set(params))


def _zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_instant(value: str, time_zone: str | None) -> str:
    """``2026-11-25T02:15:00+00:00`` → ``2026-11-25 10:15 (Asia/Shanghai)``."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    zone = _zone(time_zone)
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def _localised(params: Mapping[str, Any], locale: str, time_zone: str | None) -> dict[str, Any]:
    shown = dict(params)
    target = shown.get("target")
    if isinstance(target, str) and target in TARGET_NAMES:
        shown["target"] = TARGET_NAMES[target].render(locale)
    due_at = shown.get("due_at")
    if isinstance(due_at, str):
        shown["due_at"] = format_instant(due_at, time_zone)
    return shown


def render(
    event: NotificationEvent,
    params: Mapping[str, Any],
    *,
    locale: str,
    time_zone: str | None = None,
) -> RenderedMessage:
    """The title and body of ``event`` in ``locale``; raises ``KeyError`` on a missing parameter."""
    missing = missing_params(event, params)
    if missing:
        raise KeyError(f"{event.value} needs the parameters {', '.join(missing)}")
    template = TEMPLATES[event]
    shown = _localised(params, locale, time_zone)
    return RenderedMessage(
        title=template.title.render(locale, **shown),
        body=template.body.render(locale, **shown),
    )


def email_text(message: RenderedMessage, *, locale: str, number: str | None) -> str:
    """The plain-text body of a notification email."""
    lines = [message.body]
    if number:
        lines += ["", EMAIL_TICKET_LINE.render(locale, number=number)]
    lines += ["", "-- ", EMAIL_FOOTER.render(locale)]
    return "\n".join(lines) + "\n"
