"""Who may see, change and share a saved view."""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.tickets.saved_views.models import SavedView


def teams_of(principal: Principal) -> frozenset[int]:
    """The teams a principal belongs to or leads: whose shared views they see."""
    return principal.team_ids | principal.led_team_ids


def can_have_views(principal: Principal) -> bool:
    """Saved views belong to agents (of any role); customers and the system have none."""
    return principal.is_agent and principal.id is not None


def can_change(principal: Principal, view: SavedView) -> bool:
    """The owner, or an administrator, changes and deletes a view; team members only open it."""
    return principal.is_admin or (principal.is_agent and principal.id == view.owner_id)


def can_share_with(principal: Principal, team_id: int) -> bool:
    """A view is shared with a team its author belongs to (administrators: any team)."""
    return principal.is_admin or team_id in teams_of(principal)
