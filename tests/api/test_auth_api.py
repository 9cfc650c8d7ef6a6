"""Signing in with a password: cookie sessions, CSRF on unsafe requests, sign out."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.builders import make_agent, make_customer

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock

PASSWORD = "correct horse battery"


def _sign_in(
    client: TestClient, email: str, password: str = PASSWORD, **extra: object
) -> dict[str, object]:
    response = client.post(
        "/api/v1/auth/session", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_session_cookie_authenticates_and_unsafe_requests_need_the_csrf_token(
    client: TestClient, uow: UnitOfWork
) -> None:
    agent = make_agent(uow, role=Role.supervisor, email="Sup@Example.com")
    customer = make_customer(uow)
    uow.commit()
    session = _sign_in(client, "sup@example.com")
    assert session["principal"]["id"] == agent.id  # type: ignore[index]
    cookie = client.cookies.get("closeloop_session")
    assert cookie
    assert client.get("/api/v1/auth/me").json()["role"] == "supervisor"
    payload = {"subject": "Walk-in", "requester_id": customer.id}
    without_csrf = client.post("/api/v1/tickets", json=payload)
    assert without_csrf.status_code == 403
    assert without_csrf.json()["code"] == "auth.csrf_failed"
    with_csrf = client.post(
        "/api/v1/tickets", json=payload, headers={"X-CSRF-Token": str(session["csrf_token"])}
    )
    assert with_csrf.status_code == 201
    signed_out = client.delete("/api/v1/auth/session")
    assert signed_out.status_code == 204
    client.cookies.set("closeloop_session", cookie)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_unknown_email_and_disabled_agent_look_the_same(
    client: TestClient, uow: UnitOfWork
) -> None:
    agent = make_agent(uow, email="a@example.com")
    disabled = make_agent(uow, email="gone@example.com")
    disabled.is_active = False
    uow.commit()
    answers = [
        client.post("/api/v1/auth/session", json={"email": email, "password": password})
        for email, password in [
            ("a@example.com", "wrong password"),
            ("nobody@example.com", PASSWORD),
            ("gone@example.com", PASSWORD),
        ]
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({a.json()["detail"] for a in answers}) == 1
    assert answers[0].json()["code"] == "auth.failed"
    assert agent.is_active


def test_session_expires(client: TestClient, uow: UnitOfWork, clock: FrozenClock) -> None:
    make_agent(uow, email="short@example.com")
    uow.commit()
    _sign_in(client, "short@example.com")
    assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(hours=13))
    assert client.get("/api/v1/auth/me").status_code == 401


def test_remember_me_keeps_the_session_for_days(
    client: TestClient, uow: UnitOfWork, clock: FrozenClock
) -> None:
    make_agent(uow, email="long@example.com")
    uow.commit()
    _sign_in(client, "long@example.com", remember=True)
    clock.advance(timedelta(days=13))
    assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(days=2))
    assert client.get("/api/v1/auth/me").status_code == 401
