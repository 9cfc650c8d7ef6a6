"""Fixtures for page tests (``tests/web``). Read this before writing a page test.

Every test runs on SQLite and PostgreSQL (the ``app``/``client``/``uow`` fixtures of
``tests/conftest.py``: one rolled-back transaction shared by the test and the app).

Fixtures:
- ``organisation``: the organisation row (default locale zh_CN, time zone Asia/Shanghai).
- ``web_agent``: an agent (role agent, locale zh_CN) whose password is ``PASSWORD``; committed.
- ``agent_client``: the ``client`` signed in as ``web_agent``, with the session's CSRF token
  sent on every request (header ``X-CSRF-Token``), so form posts just work. The token is
  ``agent_client.headers["X-CSRF-Token"]``. For CSRF refusals use a client without it.
- ``signed_in``: ``signed_in(client, person, remember=False) -> csrf token`` opens a session
  for any agent or customer model directly (no password check, fast) and sets the cookie.
- ``statements``: ``with statements() as executed: ...`` lists the SQL run meanwhile
  (``selects(executed)`` keeps the SELECTs): assert exact counts on hot pages.
- ``live_server``: the ``app`` served by a real uvicorn in a thread (base URL, e.g.
  ``http://127.0.0.1:54321``), for streaming responses (SSE) that TestClient cannot end.
  Its database is the test's transaction, like ``client``'s.

Helpers (import from ``tests.web.conftest``):
- ``login(client, email, password, remember=False, next=None) -> Response`` through the form
  (with the pre-session CSRF token), not following the redirect.
- ``form_csrf(html) -> str``: the ``csrf_token`` of the first form of a page.
- ``page_csrf(html) -> str``: the token of ``hx-headers`` on ``<body>``.
- ``count_statements(engine)``: the context manager behind ``statements``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, event

from closeloop.accounts import service as accounts
from closeloop.accounts.models import Agent, Customer, Organisation
from closeloop.db.session import UnitOfWork
from closeloop.web.session import SESSION_COOKIE
from tests.builders import customer_principal, make_agent, principal_of

PASSWORD = "correct horse battery"
_FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PAGE_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def form_csrf(html: str) -> str:
    found = _FORM_CSRF.search(html)
    assert found is not None, "no csrf_token field on the page"
    return found.group(1)


def page_csrf(html: str) -> str:
    found = _PAGE_CSRF.search(html)
    assert found is not None, "no hx-headers CSRF token on the page"
    return found.group(1)


def login(
    client: TestClient,
    email: str,
    password: str,
    *,
    remember: bool = False,
    next: str | None = None,
) -> Response:
    """Sign in through the form, as a browser does; returns the POST's response (303 on
    success, the form again with a message otherwise)."""
    token = form_csrf(client.get("/login").text)
    data = {"csrf_token": token, "email": email, "password": password}
    if remember:
        data["remember"] = "1"
    if next is not None:
        data["next"] = next
    response: Response = client.post("/login", data=data, follow_redirects=False)
    return response


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    executed: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        executed.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield executed
    finally:
        event.remove(engine, "before_cursor_execute", before)


def selects(executed: list[str]) -> list[str]:
    return [s for s in executed if s.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def organisation(uow: UnitOfWork) -> Organisation:
    found = accounts.get_organisation(uow)
    uow.commit()
    return found


@pytest.fixture
def web_agent(uow: UnitOfWork, organisation: Organisation) -> Agent:
    agent = make_agent(uow, name="李雷", password=PASSWORD)
    uow.commit()
    return agent


SignIn = Callable[..., str]


@pytest.fixture
def signed_in(uow: UnitOfWork) -> SignIn:
    def sign_in(client: TestClient, person: Agent | Customer, *, remember: bool = False) -> str:
        principal = (
            principal_of(uow, person) if isinstance(person, Agent) else customer_principal(person)
        )
        lifetime = timedelta(days=14) if remember else timedelta(hours=12)
        cookie, csrf = accounts.start_login_session(uow, principal=principal, lifetime=lifetime)
        uow.commit()
        client.cookies.set(SESSION_COOKIE, cookie)
        return csrf

    return sign_in


@pytest.fixture
def agent_client(client: TestClient, web_agent: Agent, signed_in: SignIn) -> TestClient:
    client.headers["X-CSRF-Token"] = signed_in(client, web_agent)
    return client


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def statements(engine: Engine) -> Callable[[], AbstractContextManager[list[str]]]:
    return lambda: count_statements(engine)
