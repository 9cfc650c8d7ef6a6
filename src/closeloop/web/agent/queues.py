"""Ticket views and the ticket list: ``/agent``, ``/agent/views/<key>``, ``/agent/tickets``,
bulk actions (``/agent/tickets/bulk``) and the navigation counts for live refreshes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import LazyString
from closeloop.tickets.domain import TicketStatus
from closeloop.web.agent import bulk as bulk_actions
from closeloop.web.agent import listing
from closeloop.web.agent.nav import counts_of
from closeloop.web.deps import (
    CsrfChecked,
    PageAgent,
    PageSessionDep,
    PageUow,
    render,
    safe_next,
    see_other,
)
from closeloop.web.session import is_htmx

router = APIRouter()

TEMPLATES = "agent/tickets"
# htmx asks for a part of the list with ``fragment=``: the next page's rows, or the whole body.
FRAGMENTS = {"rows": f"{TEMPLATES}/_rows.html", "body": f"{TEMPLATES}/_body.html"}


def via(request: Request) -> str:
    route_path: str | None = getattr(request.scope.get("route"), "path", None)
    return f"web:{request.method} {route_path or request.url.path}"


@router.get("/agent", include_in_schema=False)
async def workspace_home(_agent: PageAgent) -> RedirectResponse:
    return RedirectResponse("/agent/views/mine", status_code=303)


@router.get("/agent/views/{key}", response_class=HTMLResponse, include_in_schema=False)
def view_page(
    request: Request, key: str, uow: PageUow, agent: PageAgent, session: PageSessionDep
) -> HTMLResponse:
    view = listing.resolve_view(uow, key, agent, session.locale)
    return _list(request, uow, agent, view, session.locale)


@router.get("/agent/tickets", response_class=HTMLResponse, include_in_schema=False)
def ticket_list(
    request: Request, uow: PageUow, agent: PageAgent, session: PageSessionDep
) -> HTMLResponse:
    return _list(request, uow, agent, listing.all_tickets_view(session.locale), session.locale)


def _list(
    request: Request, uow: UnitOfWork, agent: Principal, view: listing.ViewRef, locale: str
) -> HTMLResponse:
    params = request.query_params
    preset, changed = listing.effective_preset(view, params)
    url = request.url.remove_query_params("fragment")
    page = listing.load_page(
        uow, principal=agent, preset=preset, cursor=params.get("cursor"), url=url
    )
    list_url = listing.relative(url.remove_query_params("cursor"))
    fragment = params.get("fragment") if is_htmx(request) else None
    context: dict[str, Any] = {
        "view": view,
        "preset": preset,
        "filters": preset.filters,
        "filters_changed": changed,
        "page": page,
        "columns": preset.columns,
        "sort": preset.sort,
        "sort_urls": {
            column: listing.sort_url(url, _toggled(sort, preset.sort))
            for column, sort in listing.SORTABLE_COLUMNS.items()
        },
        "sort_state": {
            column: (
                ("descending" if preset.sort.startswith("-") else "ascending")
                if preset.sort.lstrip("-") == sort.lstrip("-")
                else None
            )
            for column, sort in listing.SORTABLE_COLUMNS.items()
        },
        "list_url": list_url,
        "is_first_page": "cursor" not in params,
        "choices": listing.choices(locale),
        "column_labels": listing.COLUMN_LABELS,
        "save_params": listing.params_of(preset.filters),
        "current_view": view.key,
        "live_topics": ["tickets"],
        "my_team_ids": sorted(agent.team_ids | agent.led_team_ids),
    }
    template = FRAGMENTS.get(fragment or "", f"{TEMPLATES}/list.html")
    return render(request, template, context)


def _toggled(sort: str, current: str) -> str:
    """A header link sorts by its column; clicking the active one reverses the direction."""
    if current.lstrip("-") == sort.lstrip("-"):
        return current[1:] if current.startswith("-") else f"-{current}"
    return sort


@router.get("/agent/nav/counts", include_in_schema=False)
def nav_counts(uow: PageUow, agent: PageAgent) -> JSONResponse:
    """Every view's count, for the navigation to refresh when tickets change."""
    return JSONResponse(counts_of(uow, agent), headers={"Cache-Control": "no-store"})


def _optional_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


@router.post("/agent/tickets/bulk", include_in_schema=False)
def bulk(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    action: Annotated[str, Form()] = "",
    ticket_id: Annotated[list[int], Form()] = [],  # noqa: B006
    assign_me: Annotated[str, Form()] = "",
    agent_id: Annotated[str, Form()] = "",
    team_id: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    survivor: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Apply one action to the selected tickets; report what was done and what was skipped.

    A row's own "assign to me" button sends ``assign_me=<id>`` and acts on that ticket only.
    """
    locale = session.locale
    if assign_me.strip().isdigit():
        action, ticket_id = bulk_actions.BulkAction.assign_me.value, [int(assign_me)]
    try:
        chosen = bulk_actions.BulkAction(action)
    except ValueError:
        return _answer(request, back, bulk_actions.NO_ACTION.render(locale), changed=False)
    if not ticket_id:
        return _answer(request, back, bulk_actions.NOTHING_SELECTED.render(locale), changed=False)
    target: TicketStatus | None = None
    if chosen is bulk_actions.BulkAction.status:
        try:
            target = TicketStatus(status)
        except ValueError:
            return _answer(request, back, bulk_actions.NO_STATUS.render(locale), changed=False)
    outcome = bulk_actions.run_bulk(
        uow,
        bulk_actions.BulkRequest(
            action=chosen,
            ticket_ids=ticket_id,
            agent_id=_optional_int(agent_id),
            team_id=_optional_int(team_id),
            status=target,
            tags=[t for t in tags.replace("，", ",").split(",") if t.strip()],
            survivor=survivor,
        ),
        actor=agent,
        via=via(request),
        locale=locale,
    )
    return _answer(request, back, outcome.message(locale), changed=bool(outcome.updated))


def _answer(request: Request, back: str, message: str, *, changed: bool) -> Response:
    """htmx: the message for ``#flash`` and an event that refreshes the list and its counts;
    a plain form post: back to the list, with the message shown there."""
    if is_htmx(request):
        response = render(request, f"{TEMPLATES}/_flash.html", {"message": message})
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        if changed:
            response.headers["HX-Trigger"] = "ticket-list-changed"
        return response
    # The flash cookie carries the finished sentence; translating it again finds nothing.
    return see_other(request, safe_next(back, "/agent"), flash=LazyString(message))
