"""Shared pieces of the admin page tests (``tests/web/test_admin_*.py``).

Fixtures (import them into the test module): ``admin`` (an admin who reads English, in UTC),
``admin_client`` (the ``client`` signed in as ``admin``, CSRF header set, so posts just work).
Helpers: ``assert_admin_only(client, uow, signed_in, paths)`` — anonymous visitors are sent to
sign in, agents and customers get the 404 page; ``refused_csrf(client, path, data)`` posts with
a wrong token and checks the 403 page.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from closeloop.accounts.domain import Role
from closeloop.accounts.models import Agent, Organisation
from closeloop.db.session import UnitOfWork
from tests.builders import make_agent, make_customer
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client", "assert_admin_only", "english", "refused_csrf"]


def english(uow: UnitOfWork, agent: Agent) -> Agent:
    agent.locale, agent.time_zone = "en", "UTC"
    uow.session.flush()
    return agent


@pytest.fixture
def admin(uow: UnitOfWork, organisation: Organisation) -> Agent:
    agent = english(uow, make_agent(uow, role=Role.admin, name="Ada Admin"))
    uow.commit()
    return agent


@pytest.fixture
def admin_client(client: TestClient, admin: Agent, signed_in: SignIn) -> TestClient:
    client.headers["X-CSRF-Token"] = signed_in(client, admin)
    return client


def assert_admin_only(
    client: TestClient, uow: UnitOfWork, signed_in: SignIn, paths: Sequence[str]
) -> None:
    """Anonymous -> sign in; an agent, a supervisor and a customer -> the 404 page."""
    saved_cookies = dict(client.cookies)
    saved_header = client.headers.pop("X-CSRF-Token", None)
    try:
        client.cookies.clear()
        for path in paths:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/login?next="), path
        agent = english(uow, make_agent(uow, role=Role.agent))
        supervisor = english(uow, make_agent(uow, role=Role.supervisor))
        customer = make_customer(uow, email="someone@example.org")
        uow.commit()
        for person in (agent, supervisor, customer):
            client.cookies.clear()
            signed_in(client, person)
            for path in paths:
                answer = client.get(path, follow_redirects=False)
                assert answer.status_code == 404, (path, person)
                assert "does not exist" in answer.text or "不存在" in answer.text
    finally:
        client.cookies.clear()
        for name, value in saved_cookies.items():
            client.cookies.set(name, value)
        if saved_header is not None:
            client.headers["X-CSRF-Token"] = saved_header


def refused_csrf(client: TestClient, path: str, data: dict[str, str]) -> Response:
    """Post with a wrong CSRF token: the 403 page."""
    answer: Response = client.post(
        path,
        data={**data, "csrf_token": "wrong-token-wrong-token"},
        headers={"X-CSRF-Token": "wrong-token-wrong-token"},
        follow_redirects=False,
    )
    assert answer.status_code == 403, answer.text[:500]
    return answer
