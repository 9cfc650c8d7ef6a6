"""The ticket page and the fragments it refreshes: thread, field panel, presence."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from closeloop.tickets import service as tickets
from closeloop.web.agent.ticket_page import common, presence
from closeloop.web.agent.ticket_page import context as page_data
from closeloop.web.agent.ticket_page.labels import page_labels
from closeloop.web.agent.ticket_page.quoting import text_to_html
from closeloop.web.deps import PageAgent, PageSessionDep, PageUow, render
from closeloop.web.live.presence import LivePresence

router = APIRouter()


@router.get("/agent/tickets/{ticket_id:int}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    live: LivePresence,
) -> HTMLResponse:
    page = page_data.load_page(uow, ticket_id=ticket_id, actor=agent)
    viewers = presence.arrive(live, page.ticket.id, agent)
    return render(
        request,
        f"{common.TEMPLATES}/page.html",
        {
            "ticket": page.ticket,
            "description": text_to_html(page.ticket.description),
            "thread": page.thread,
            "fields": page.fields,
            "requester": page.requester,
            "sla": page.sla,
            "timeline": page.timeline,
            "macros": page.macros,
            "viewers": viewers,
            "error": None,
            "live_topics": [common.topic(page.ticket.id)],
            **page_labels(session.locale, uow.clock.now()),
        },
    )


@router.get("/agent/tickets/{ticket_id:int}/thread", response_class=HTMLResponse)
def thread(ticket_id: int, request: Request, uow: PageUow, agent: PageAgent) -> HTMLResponse:
    return common.thread_fragment(request, uow, ticket_id=ticket_id, actor=agent)


@router.get("/agent/tickets/{ticket_id:int}/fields", response_class=HTMLResponse)
def fields(ticket_id: int, request: Request, uow: PageUow, agent: PageAgent) -> HTMLResponse:
    return common.fields_fragment(request, uow, ticket_id=ticket_id, actor=agent)


@router.get("/agent/tickets/{ticket_id:int}/presence", response_class=HTMLResponse)
def who_is_viewing(
    ticket_id: int, request: Request, uow: PageUow, agent: PageAgent, live: LivePresence
) -> HTMLResponse:
    """Touch the agent's presence on the ticket and list the others viewing it (polled)."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=agent)
    viewers = presence.arrive(live, ticket.id, agent)
    return render(request, f"{common.TEMPLATES}/_presence.html", {"viewers": viewers})
