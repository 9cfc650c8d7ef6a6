"""Errors of macros, each with a stable code."""

from __future__ import annotations

from closeloop.kit.errors import DomainError, NotFound, PermissionDenied
from closeloop.kit.i18n import _


class MacroNotFound(NotFound):
    code = "macro.not_found"
    message = _("Macro {macro_id} does not exist.")


class MacroChangeDenied(PermissionDenied):
    code = "macro.permission_denied"
    message = _(
        "Personal macros are changed by their owner, team macros by the team's lead or an "
        "administrator, and global macros by administrators."
    )


class MacroTeamRequired(DomainError):
    code = "macro.team_required"
    http_status = 422
    title = _("Team required")
    message = _("A team macro needs its team; personal and global macros have none.")
