"""``GET /live/stream?topic=tickets&topic=ticket:12``: Server-Sent Events for signed-in agents.

Each event is one ``data:`` line of JSON ``{"topic": ..., "data": {...}}``; a comment line is
sent every 15 s so proxies keep the connection open and a vanished client is noticed. The
stream ends when the client goes away (or the server shuts down).

Topics: ``tickets`` (every ticket opened or changed; ids only: the page refetches what it may
see) and ``ticket:<id>`` (streamed only when the agent may see that ticket, checked once when
the stream opens, and again every minute: a stream whose session ended or whose ticket the
agent may no longer see ends). Unknown or refused topics are left out silently.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.tickets import service as ticket_service
from closeloop.web.live.broker import Broker
from closeloop.web.session import SESSION_COOKIE

router = APIRouter()
HEARTBEAT_SECONDS = 15.0
# How often an open stream checks again that its session and topics are still allowed.
RECHECK_SECONDS = 60.0
RETRY_MILLISECONDS = 3000
MAX_TOPICS = 20
_TICKET_TOPIC = re.compile(r"^ticket:(\d{1,18})$")


def _allowed_topics(request: Request, requested: list[str]) -> tuple[Principal, list[str]] | None:
    """The agent behind the session cookie and the topics they may follow (None: not an
    agent). Runs in a thread with its own short unit of work: the stream must not hold a
    database connection while it is open."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    state = request.app.state
    with UnitOfWork(
        state.read_session_factory, bus=state.bus, clock=state.clock, read_only=True
    ) as uow:
        found = accounts.principal_for_login_session(uow, cookie)
        if found is None or not found[0].is_agent:
            return None
        principal = found[0]
        allowed: list[str] = []
        for topic in dict.fromkeys(requested[:MAX_TOPICS]):
            if topic == "tickets":
                allowed.append(topic)
                continue
            match = _TICKET_TOPIC.match(topic)
            if match is None:
                continue
            try:
                ticket_service.get_ticket(uow, ticket_id=int(match.group(1)), actor=principal)
            except DomainError:
                continue
            allowed.append(topic)
        return principal, allowed


def _frame(topic: str, data: dict[str, object]) -> str:
    payload = json.dumps({"topic": topic, "data": data}, separators=(",", ":"))
    return f"data: {payload}\n\n"


async def _still_allowed(request: Request, topics: list[str]) -> bool:
    """Whether the session is still signed in and may still follow every topic it opened
    with (signed out, password changed, deactivated, the ticket moved to another team: no)."""
    allowed = await run_in_threadpool(_allowed_topics, request, topics)
    return allowed is not None and set(allowed[1]) == set(topics)


async def _events(request: Request, broker: Broker, topics: list[str]) -> AsyncIterator[str]:
    """The stream; every ``RECHECK_SECONDS`` the session and the topics are checked again, and
    the stream ends when they no longer hold (the browser reconnects and is refused, or gets
    the topics it may still follow)."""
    loop = asyncio.get_running_loop()
    async with broker.subscription(topics) as subscription:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        checked_at = loop.time()
        while True:
            event = await subscription.next(timeout=min(HEARTBEAT_SECONDS, RECHECK_SECONDS))
            if await request.is_disconnected():
                return
            if loop.time() - checked_at >= RECHECK_SECONDS:
                if not await _still_allowed(request, topics):
                    return
                checked_at = loop.time()
            if event is None:
                yield ": heartbeat\n\n"
                continue
            yield _frame(*event)


@router.get("/live/stream", include_in_schema=False)
async def live_stream(
    request: Request, topic: Annotated[list[str] | None, Query()] = None
) -> Response:
    allowed = await run_in_threadpool(_allowed_topics, request, topic or [])
    if allowed is None:
        return Response(status_code=401, headers={"Cache-Control": "no-store"})
    _principal, topics = allowed
    broker: Broker = request.app.state.broker
    return StreamingResponse(
        _events(request, broker, topics),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass events through at once
        },
    )


__all__ = ["router"]
