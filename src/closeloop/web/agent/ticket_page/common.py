"""What the ticket page's handlers share: how they name themselves in the audit trail, the
fragments they answer with, and the message for a change that lost a race."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import LazyString, _
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.domain import TicketType
from closeloop.web.agent.ticket_page import context as page_data
from closeloop.web.agent.ticket_page.labels import page_labels
from closeloop.web.session import fallback_session, is_htmx
from closeloop.web.templating import format_local, render, see_other

TEMPLATES = "agent/ticket"


def via(request: Request) -> str:
    """How a change came in, for the audit trail: ``web:POST /agent/tickets/{ticket_id}/...``."""
    route_path: str | None = getattr(request.scope.get("route"), "path", None)
    return f"web:{request.method} {route_path or request.url.path}"


def labels_for(request: Request, uow: UnitOfWork) -> dict[str, Any]:
    return page_labels(fallback_session(request).locale, uow.clock.now())


def topic(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def stale_message(
    uow: UnitOfWork, *, ticket_id: int, actor: Principal, locale: str, time_zone: str
) -> str:
    """ "This ticket was changed by <name> at <time> — reload to see their change"."""
    entries = tickets.timeline(uow, ticket_id=ticket_id, actor=actor)
    if not entries:
        return _("This ticket was changed meanwhile — reload to see the change.").render(locale)
    last = entries[-1]
    return _("This ticket was changed by {name} at {time} — reload to see their change.").render(
        locale,
        name=last.actor_name or _("someone").render(locale),
        time=format_local(last.occurred_at, locale=locale, time_zone=time_zone),
    )


def custom_field_definitions(uow: UnitOfWork, *, ticket: Any, actor: Principal) -> list[Any]:
    return list(
        custom_fields.list_custom_fields(uow, actor=actor, ticket_type=TicketType(ticket.type))
    )


def after_change(
    request: Request, uow: UnitOfWork, *, ticket_id: int, actor: Principal
) -> Response:
    """The refreshed field panel for htmx (the thread refreshes too: a status change shows in
    it); a plain form post goes back to the page."""
    if not is_htmx(request):
        return see_other(request, f"/agent/tickets/{ticket_id}")
    return fields_fragment(
        request, uow, ticket_id=ticket_id, actor=actor, headers={"HX-Trigger": "live-thread"}
    )


def fields_fragment(
    request: Request,
    uow: UnitOfWork,
    *,
    ticket_id: int,
    actor: Principal,
    error: str | LazyString | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The field panel (fields, status actions, links, followers) as it is now."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    panel = page_data.load_fields(uow, ticket=ticket, actor=actor)
    return render(
        request,
        f"{TEMPLATES}/_fields.html",
        {"ticket": ticket, "fields": panel, "error": error, **labels_for(request, uow)},
        status_code=status_code,
        headers=headers,
    )


def thread_fragment(
    request: Request,
    uow: UnitOfWork,
    *,
    ticket_id: int,
    actor: Principal,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    thread = page_data.load_thread(uow, ticket_id=ticket_id, actor=actor)
    return render(
        request,
        f"{TEMPLATES}/_thread.html",
        {"ticket": ticket, "thread": thread, **labels_for(request, uow), **(extra or {})},
        headers=headers,
    )
