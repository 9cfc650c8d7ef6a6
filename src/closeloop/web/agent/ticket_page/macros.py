"""Macros on the ticket page: insert one into the reply box (its field actions apply when the
reply is sent), or apply a field-only macro at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse, Response

from closeloop.tickets import service as tickets
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.schemas import MacroActions
from closeloop.web.agent.ticket_page import common
from closeloop.web.agent.ticket_page.fields import guarded
from closeloop.web.deps import CsrfChecked, PageAgent, PageSessionDep, PageUow, render

router = APIRouter()


def describe_actions(actions: MacroActions, labels: dict[str, str]) -> str:
    """``status → pending, tags + billing`` (values as stored; names translated)."""
    parts: list[str] = []
    for name, value in actions.model_dump(mode="json", exclude_defaults=True).items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{labels.get(name, name)} → {shown}")
    return "; ".join(parts)


@router.get("/agent/tickets/{ticket_id:int}/macros/insert", response_class=HTMLResponse)
def insert_macro(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    macro_choice: Annotated[int, Query()],
    kind: Annotated[MessageKind, Query()] = MessageKind.public_reply,
) -> HTMLResponse:
    """The reply box filled with the macro's text (placeholders filled for this ticket)."""
    filled = macros.fill_macro(uow, macro_id=macro_choice, ticket_id=ticket_id, actor=agent)
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=agent)
    labels = common.labels_for(request, uow)
    return render(
        request,
        f"{common.TEMPLATES}/_reply.html",
        {
            "ticket": ticket,
            "filled": filled,
            "filled_actions": describe_actions(filled.actions, labels["action_labels"]),
            "kind": kind.value,
            "macros": list(macros.list_macros(uow, actor=agent)),
        },
    )


@router.post("/agent/tickets/{ticket_id:int}/macros/apply")
def apply_macro(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    macro_choice: Annotated[int, Form()],
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Apply the macro's field actions now (no message is sent)."""
    return guarded(
        request,
        uow,
        session,
        ticket_id=ticket_id,
        agent=agent,
        change=lambda: macros.apply_macro(
            uow,
            macro_id=macro_choice,
            ticket_id=ticket_id,
            expected_version=version,
            actor=agent,
            via=common.via(request),
        ),
    )
