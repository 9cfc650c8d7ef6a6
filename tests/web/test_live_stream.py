"""``GET /live/stream``: Server-Sent Events, served by a real server (the stream never ends by
itself, which TestClient cannot read)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.models import Agent, Team
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.tickets import service as ticket_service
from closeloop.tickets.schemas import TicketUpdate
from closeloop.web.live import stream
from closeloop.web.session import SESSION_COOKIE
from closeloop.wiring import subscribe_live
from tests.builders import (
    customer_principal,
    make_agent,
    make_customer,
    make_team,
    make_ticket,
    principal_of,
)


class _Stream:
    """Reads SSE lines from a streaming response in a thread, so a test can wait for them."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines():
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        except (httpx.HTTPError, RuntimeError):
            pass

    def wait_for(self, prefix: str, timeout: float = 10.0) -> list[str]:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: any(line.startswith(prefix) for line in self.lines), timeout
            )
        assert ok, f"no {prefix!r} line in {self.lines}"
        return [line for line in self.lines if line.startswith(prefix)]

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [json.loads(line[6:]) for line in self.lines if line.startswith("data: ")]


def _session_cookie(uow: UnitOfWork, principal: Principal) -> str:
    cookie, _csrf = accounts.start_login_session(
        uow, principal=principal, lifetime=timedelta(hours=1)
    )
    uow.commit()
    return cookie


@pytest.fixture
def team(uow: UnitOfWork, organisation: object) -> Team:
    return make_team(uow, name="Network")


@pytest.fixture
def team_agent(uow: UnitOfWork, team: Team) -> Agent:
    return make_agent(uow, name="韩梅梅", teams=[team])


@pytest.fixture
def cookie(uow: UnitOfWork, team_agent: Agent) -> str:
    return _session_cookie(uow, principal_of(uow, team_agent))


@pytest.fixture
def live_bus(app: FastAPI, bus: EventBus) -> EventBus:
    # The test's units of work publish into ``bus``: announce their ticket changes live, as
    # build_event_bus(broker) does in the app and the workers.
    subscribe_live(bus, app.state.broker)
    return bus


@pytest.fixture
def open_stream(live_server: str, cookie: str) -> Iterator[Any]:
    clients: list[httpx.Client] = []
    streams: list[Any] = []

    def open_(*topics: str, session: str | None = cookie) -> _Stream:
        client = httpx.Client(base_url=live_server, timeout=httpx.Timeout(10, read=30))
        clients.append(client)
        if session is not None:
            client.cookies.set(SESSION_COOKIE, session)
        context = client.stream("GET", "/live/stream", params=[("topic", t) for t in topics])
        response = context.__enter__()
        streams.append(context)
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        opened = _Stream(response)
        opened.wait_for(": connected")
        return opened

    yield open_
    for context in streams:
        context.__exit__(None, None, None)
    for client in clients:
        client.close()


def test_a_ticket_change_arrives_on_the_stream(
    uow: UnitOfWork, team_agent: Agent, team: Team, live_bus: EventBus, open_stream: Any
) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow), subject="VPN down", team_id=team.id)
    uow.commit()
    events = open_stream("tickets", f"ticket:{ticket.id}")

    ticket_service.update_fields(
        uow,
        ticket_id=ticket.id,
        data=TicketUpdate(priority="P1"),
        expected_version=ticket.version,
        actor=principal_of(uow, team_agent),
        via="test",
    )
    uow.commit()

    events.wait_for("data: ")
    events.wait_for('data: {"topic":"ticket:')
    received = events.events()
    assert {
        "topic": "tickets",
        "data": {"ticket_id": ticket.id, "event": "ticket.updated", "version": None},
    } in received
    detail = next(e for e in received if e["topic"] == f"ticket:{ticket.id}")
    assert detail["data"]["event"] == "ticket.updated"
    assert "priority" in detail["data"]["fields"]


def test_a_rolled_back_change_is_not_announced(
    uow: UnitOfWork,
    team_agent: Agent,
    team: Team,
    live_bus: EventBus,
    open_stream: Any,
    app: FastAPI,
) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    uow.commit()
    events = open_stream("tickets")
    ticket_service.update_fields(
        uow,
        ticket_id=ticket.id,
        data=TicketUpdate(priority="P1"),
        expected_version=ticket.version,
        actor=principal_of(uow, team_agent),
        via="test",
    )
    uow.rollback()
    app.state.broker.publish("tickets", {"marker": True})
    events.wait_for("data: ")
    assert events.events() == [{"topic": "tickets", "data": {"marker": True}}]


def test_ticket_topics_the_agent_may_not_see_are_left_out(
    uow: UnitOfWork, app: FastAPI, live_bus: EventBus, open_stream: Any
) -> None:
    other_team = make_team(uow)
    hidden = make_ticket(uow, requester=make_customer(uow), team_id=other_team.id)
    uow.commit()
    events = open_stream(f"ticket:{hidden.id}", "tickets", "secrets", "ticket:abc")
    app.state.broker.publish(f"ticket:{hidden.id}", {"leak": True})
    app.state.broker.publish("secrets", {"leak": True})
    app.state.broker.publish("tickets", {"ticket_id": hidden.id})
    events.wait_for("data: ")
    assert events.events() == [{"topic": "tickets", "data": {"ticket_id": hidden.id}}]


def test_heartbeats_keep_the_stream_open(open_stream: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.2)
    events = open_stream("tickets")
    assert len(events.wait_for(": heartbeat")) >= 1


def test_the_subscription_ends_when_the_client_goes_away(
    app: FastAPI, open_stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.1)
    events = open_stream("tickets")
    assert app.state.broker.subscriber_count == 1
    events.response.close()
    deadline = threading.Event()
    for _ in range(100):
        if app.state.broker.subscriber_count == 0:
            break
        deadline.wait(0.05)
    assert app.state.broker.subscriber_count == 0


def test_only_signed_in_agents_may_listen(
    live_server: str, uow: UnitOfWork, organisation: object
) -> None:
    customer_cookie = _session_cookie(uow, customer_principal(make_customer(uow)))
    with httpx.Client(base_url=live_server) as client:
        assert client.get("/live/stream", params={"topic": "tickets"}).status_code == 401
    for session in ("not-a-session", customer_cookie):
        with httpx.Client(base_url=live_server, cookies={SESSION_COOKIE: session}) as client:
            assert client.get("/live/stream", params={"topic": "tickets"}).status_code == 401


def _wait_until_unsubscribed(app: FastAPI, seconds: float = 5.0) -> bool:
    pause = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if app.state.broker.subscriber_count == 0:
            return True
        pause.wait(0.05)
    return False


def test_the_stream_ends_when_its_session_ends(
    app: FastAPI, uow: UnitOfWork, cookie: str, open_stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signed out (or signed out everywhere by a password change) means no more events, even
    # on a stream opened before.
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.2)
    open_stream("tickets")
    assert app.state.broker.subscriber_count == 1
    accounts.end_login_session(uow, cookie)
    uow.commit()
    assert _wait_until_unsubscribed(app), "the stream outlived its session"


def test_the_stream_ends_when_the_agent_may_no_longer_see_its_ticket(
    app: FastAPI,
    uow: UnitOfWork,
    team: Team,
    open_stream: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.2)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    uow.commit()
    open_stream("tickets", f"ticket:{ticket.id}")
    pause = threading.Event()
    pause.wait(0.4)
    assert app.state.broker.subscriber_count == 1, "a stream that may go on ended"
    other = make_team(uow)
    ticket.team_id = other.id
    uow.commit()
    assert _wait_until_unsubscribed(app), "the ticket's events kept coming after it moved away"
