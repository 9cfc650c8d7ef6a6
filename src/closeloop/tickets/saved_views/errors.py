"""Errors of saved views, each with a stable code."""

from __future__ import annotations

from closeloop.kit.errors import NotFound, PermissionDenied
from closeloop.kit.i18n import _


class SavedViewNotFound(NotFound):
    code = "saved_view.not_found"
    message = _("Saved view {view_id} does not exist.")


class SavedViewChangeDenied(PermissionDenied):
    code = "saved_view.change_denied"
    message = _("Only the owner of a saved view or an administrator may change or delete it.")


class SavedViewShareDenied(PermissionDenied):
    code = "saved_view.share_denied"
    message = _("A view can be shared only with a team you belong to.")
