"""Who may read notifications and manage channels: the single place it is decided."""

from __future__ import annotations

from closeloop.accounts.domain import Principal


def has_notification_list(actor: Principal) -> bool:
    """Only agents have an in-app notification list (customers are told by email)."""
    return actor.is_agent and actor.id is not None


def can_manage_channels(actor: Principal) -> bool:
    return actor.is_admin
