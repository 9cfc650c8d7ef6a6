"""Translated names of the ticket vocabulary, as pages show them (CONTEXT.md's zh/en pairs)."""

from __future__ import annotations

from collections.abc import Mapping

from closeloop.kit.i18n import LazyString, _
from closeloop.tickets.domain import Channel, Priority, TicketStatus, TicketType

STATUS_LABELS: Mapping[str, LazyString] = {
    TicketStatus.new: _("New"),
    TicketStatus.open: _("Open"),
    TicketStatus.in_progress: _("In progress"),
    TicketStatus.pending: _("Pending"),
    TicketStatus.resolved: _("Resolved"),
    TicketStatus.closed: _("Closed"),
}

PRIORITY_LABELS: Mapping[str, LazyString] = {
    Priority.P1: _("Urgent"),
    Priority.P2: _("High"),
    Priority.P3: _("Medium"),
    Priority.P4: _("Low"),
}

TYPE_LABELS: Mapping[str, LazyString] = {
    TicketType.inquiry: _("Inquiry"),
    TicketType.fault: _("Fault"),
    TicketType.complaint: _("Complaint"),
    TicketType.request: _("Service request"),
}

CHANNEL_LABELS: Mapping[str, LazyString] = {
    Channel.web: _("Web form"),
    Channel.portal: _("Portal"),
    Channel.email: _("Email"),
    Channel.wechat: _("WeChat"),
    Channel.api: _("API"),
    Channel.phone: _("Phone"),
    Channel.chat: _("Chat"),
}

SLA_STATE_LABELS: Mapping[str, LazyString] = {
    "running": _("On track"),
    "paused": _("Paused"),
    "warning": _("Due soon"),
    "met": _("Met"),
    "breached": _("Breached"),
}

# The languages an agent can choose, each named in its own language (never translated).
LANGUAGE_NAMES: Mapping[str, str] = {"zh_CN": "简体中文", "en": "English"}


def label(labels: Mapping[str, LazyString], value: object, locale: str) -> str:
    """The translated label of an enum value (or its plain value when unknown)."""
    key = getattr(value, "value", value)
    found = labels.get(str(key)) if key is not None else None
    return found.render(locale) if found is not None else ("" if key is None else str(key))
