"""Saved views from the ticket list: "save this view", rename or share it, update its filters,
delete it. Only the owner (or an administrator) changes a view; its team only opens it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from closeloop.kit.errors import ValidationFailed
from closeloop.kit.i18n import _
from closeloop.tickets.saved_views import service as saved_views
from closeloop.tickets.saved_views.domain import DEFAULT_COLUMNS, DEFAULT_SORT
from closeloop.tickets.saved_views.schemas import SavedViewCreate, SavedViewUpdate
from closeloop.web.agent import listing
from closeloop.web.agent.queues import via
from closeloop.web.deps import CsrfChecked, PageAgent, PageSessionDep, PageUow, see_other

router = APIRouter()


async def form_data(request: Request) -> FormData:
    """The posted form (Starlette keeps it, so the CSRF check has read it already)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(form_data)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _team_id(form: FormData) -> int | None:
    value = _text(form, "team_id")
    return int(value) if value.isdigit() else None


def _name(form: FormData, locale: str) -> str:
    name = _text(form, "name")
    if not name or len(name) > 80:
        raise ValidationFailed(
            errors=[
                {
                    "field": "name",
                    "code": "invalid",
                    "message": _("Give the view a name of up to 80 characters.").render(locale),
                }
            ]
        )
    return name


def _columns(form: FormData) -> list[str]:
    return [c for c in form.getlist("col") if isinstance(c, str)]


@router.post("/agent/saved-views", include_in_schema=False)
def create_view(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Save the list's current filters, columns and sort as a view (private or for a team)."""
    columns = _columns(form)
    view = saved_views.create_saved_view(
        uow,
        data=SavedViewCreate(
            name=_name(form, session.locale),
            team_id=_team_id(form),
            filters=listing.filters_from_params(form).to_document(),
            columns=columns or list(DEFAULT_COLUMNS),
            sort=_text(form, "sort") or DEFAULT_SORT,
        ),
        actor=agent,
        via=via(request),
    )
    uow.commit()
    return see_other(request, f"/agent/views/{view.id}", flash=_("View saved."))


@router.post("/agent/saved-views/{view_id}", include_in_schema=False)
def update_view(
    request: Request,
    view_id: int,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    form: PostedForm,
) -> Response:
    """Rename or (un)share the view; with ``replace_filters``, also take the list's current
    filters, columns and sort."""
    changes: dict[str, object] = {"name": _name(form, session.locale), "team_id": _team_id(form)}
    if _text(form, "replace_filters"):
        changes["filters"] = listing.filters_from_params(form).to_document()
        changes["sort"] = _text(form, "sort") or DEFAULT_SORT
        columns = _columns(form)
        if columns:
            changes["columns"] = columns
    saved_views.update_saved_view(
        uow,
        view_id=view_id,
        data=SavedViewUpdate.model_validate(changes),
        actor=agent,
        via=via(request),
    )
    uow.commit()
    return see_other(request, f"/agent/views/{view_id}", flash=_("View updated."))


@router.post("/agent/saved-views/{view_id}/delete", include_in_schema=False)
def delete_view(
    request: Request, view_id: int, uow: PageUow, agent: PageAgent, _csrf: CsrfChecked
) -> Response:
    saved_views.delete_saved_view(uow, view_id=view_id, actor=agent, via=via(request))
    uow.commit()
    return see_other(request, "/agent/views/mine", flash=_("View deleted."))
