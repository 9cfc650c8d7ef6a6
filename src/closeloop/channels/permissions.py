"""Who may look into the inbound pipeline: the quarantine and raw messages are for admins."""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.kit.errors import PermissionDenied


def can_manage_inbound(principal: Principal) -> bool:
    """Raw messages hold whatever customers sent (addresses, attachments): admins only."""
    return principal.is_admin


def require_inbound_manager(principal: Principal) -> None:
    if not can_manage_inbound(principal):
        raise PermissionDenied()
