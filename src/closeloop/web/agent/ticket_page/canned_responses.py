"""An agent's own macros (canned responses): list, create, change, delete. Team and global
macros are managed on the admin pages; here they are listed for reference."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from closeloop.kit.i18n import _
from closeloop.tickets.domain import PendingReason, Priority, TicketStatus, TicketType
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.domain import MacroScope
from closeloop.tickets.macros.schemas import MacroActions, MacroCreate, MacroUpdate
from closeloop.web.agent.ticket_page import common
from closeloop.web.deps import CsrfChecked, PageAgent, PageUow, render
from closeloop.web.templating import see_other

router = APIRouter()

PATH = "/agent/canned-responses"


@router.get(PATH, response_class=HTMLResponse)
def list_canned_responses(request: Request, uow: PageUow, agent: PageAgent) -> HTMLResponse:
    usable = macros.list_macros(uow, actor=agent, include_inactive=True)
    personal = [m for m in usable if m.scope == MacroScope.personal.value]
    shared = [m for m in usable if m.scope != MacroScope.personal.value and m.is_active]
    return render(
        request,
        f"{common.TEMPLATES}/canned_responses.html",
        {
            "personal": personal,
            "shared": shared,
            "statuses": list(TicketStatus),
            "priorities": list(Priority),
            "types": list(TicketType),
        },
    )


def _actions(
    status: str, priority: str, ticket_type: str, add_tags: str, pending_reason: str = ""
) -> MacroActions:
    return MacroActions(
        status=TicketStatus(status) if status else None,
        pending_reason=PendingReason(pending_reason) if pending_reason else None,
        priority=Priority(priority) if priority else None,
        type=TicketType(ticket_type) if ticket_type else None,
        add_tags=[t.strip() for t in add_tags.split(",") if t.strip()],
    )


@router.post(PATH)
def create_canned_response(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    _csrf: CsrfChecked,
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=20_000)] = "",
    status: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    ticket_type: Annotated[str, Form(alias="type")] = "",
    add_tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    macros.create_macro(
        uow,
        data=MacroCreate(
            title=title,
            body=body,
            actions=_actions(status, priority, ticket_type, add_tags),
            scope=MacroScope.personal,
        ),
        actor=agent,
        via=common.via(request),
    )
    uow.commit()
    return see_other(request, PATH, flash=_("Canned response saved."))


@router.post(PATH + "/{macro_id}")
def update_canned_response(
    macro_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    _csrf: CsrfChecked,
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=20_000)] = "",
    status: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    ticket_type: Annotated[str, Form(alias="type")] = "",
    add_tags: Annotated[str, Form(max_length=2000)] = "",
    is_active: Annotated[str, Form()] = "",
) -> Response:
    macros.update_macro(
        uow,
        macro_id=macro_id,
        data=MacroUpdate(
            title=title,
            body=body,
            actions=_actions(status, priority, ticket_type, add_tags),
            is_active=is_active == "yes",
        ),
        actor=agent,
        via=common.via(request),
    )
    uow.commit()
    return see_other(request, PATH, flash=_("Canned response saved."))


@router.post(PATH + "/{macro_id}/delete")
def delete_canned_response(
    macro_id: int, request: Request, uow: PageUow, agent: PageAgent, _csrf: CsrfChecked
) -> Response:
    macros.delete_macro(uow, macro_id=macro_id, actor=agent, via=common.via(request))
    uow.commit()
    return see_other(request, PATH, flash=_("Canned response deleted."))
