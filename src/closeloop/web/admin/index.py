"""The admin index: one card per area."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from closeloop.web.admin.common import PageAdminOrLead, area_context
from closeloop.web.deps import render

router = APIRouter()


@router.get("/admin", response_class=HTMLResponse)
def admin_index(request: Request, _admin: PageAdminOrLead) -> HTMLResponse:
    """Admins see every area; team leads only the canned responses of their teams."""
    return render(request, "admin/index.html", area_context("index"))
