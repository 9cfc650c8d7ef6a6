"""Translated names the ticket page needs beyond the shared labels (web/labels.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from closeloop.kit.i18n import LazyString, _
from closeloop.web.templating import describe_remaining

IDENTITY_LABELS: Mapping[str, LazyString] = {
    "email": _("Email"),
    "phone": _("Phone"),
    "wechat_openid": _("WeChat"),
    "external_id": _("External ID"),
}

TARGET_LABELS: Mapping[str, LazyString] = {
    "first_response": _("First response"),
    "next_response": _("Next response"),
    "resolution": _("Resolution"),
}

LINK_LABELS: Mapping[str, LazyString] = {
    "related": _("Related to"),
    "duplicate_of": _("Duplicate of"),
    "parent_of": _("Parent of"),
    "follow_up_of": _("Follow-up of"),
    "merged_into": _("Merged into"),
}

ACTION_LABELS: Mapping[str, LazyString] = {
    "status": _("status"),
    "pending_reason": _("pending reason"),
    "priority": _("priority"),
    "type": _("type"),
    "team_id": _("team"),
    "add_tags": _("tags"),
}


def _rendered(table: Mapping[str, LazyString], locale: str) -> dict[str, str]:
    return {key: value.render(locale) for key, value in table.items()}


def page_labels(locale: str, now: datetime) -> dict[str, Any]:
    """The label tables and helpers the ticket page's templates use, in ``locale``."""

    def remaining(seconds: float) -> str:
        """``2 h 05 min left`` for a clock's remaining time (a paused clock does not run)."""
        return describe_remaining(now + timedelta(seconds=seconds), now=now, locale=locale)

    return {
        "identity_labels": _rendered(IDENTITY_LABELS, locale),
        "target_labels": _rendered(TARGET_LABELS, locale),
        "link_labels": _rendered(LINK_LABELS, locale),
        "action_labels": _rendered(ACTION_LABELS, locale),
        "remaining": remaining,
    }
