"""HTTP contract of team mailboxes: the IMAP password is write-only, an address belongs to one
mailbox (409), the connection test answers without a secret, templates have defaults."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.builders import bearer, make_agent, make_team

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork

PROBLEM = "application/problem+json"
PASSWORD = "imap-password-never-shown"


@pytest.fixture
def admin(uow: UnitOfWork) -> dict[str, str]:
    headers = bearer(uow, make_agent(uow, role=Role.admin, password=None).email)
    uow.commit()
    return headers


@pytest.fixture
def team_id(uow: UnitOfWork) -> int:
    team = make_team(uow, name="技术支持")
    uow.commit()
    return team.id


def _body(team_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "name": "技术支持邮箱",
        "address": "Support@Example.cn",
        "imap_host": "127.0.0.1",
        "imap_port": 9,
        "tls_mode": "none",
        "username": "support",
        "password": PASSWORD,
        **overrides,
    }


def test_the_password_is_write_only(
    client: TestClient, admin: dict[str, str], team_id: int
) -> None:
    created = client.post("/api/v1/mailboxes", json=_body(team_id), headers=admin)
    assert created.status_code == 201, created.text
    assert PASSWORD not in created.text
    assert created.json()["address"] == "support@example.cn"
    assert created.json()["has_password"] is True
    mailbox_id = created.json()["id"]
    for response in (
        client.get("/api/v1/mailboxes", headers=admin),
        client.get(f"/api/v1/mailboxes/{mailbox_id}", headers=admin),
        client.patch(f"/api/v1/mailboxes/{mailbox_id}", json={"name": "x"}, headers=admin),
    ):
        assert response.status_code == 200
        assert PASSWORD not in response.text
        assert "password_encrypted" not in response.text
    removed = client.patch(
        f"/api/v1/mailboxes/{mailbox_id}", json={"password": None}, headers=admin
    )
    assert removed.json()["has_password"] is False


def test_an_address_in_use_is_a_conflict(
    client: TestClient, admin: dict[str, str], team_id: int
) -> None:
    assert client.post("/api/v1/mailboxes", json=_body(team_id), headers=admin).status_code == 201
    again = client.post(
        "/api/v1/mailboxes", json=_body(team_id, address="SUPPORT@example.cn"), headers=admin
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert again.json()["type"].endswith("mailbox.address_taken")


def test_a_bad_tls_mode_or_unknown_team_is_refused(
    client: TestClient, admin: dict[str, str], team_id: int
) -> None:
    bad_mode = client.post(
        "/api/v1/mailboxes", json=_body(team_id, tls_mode="tls13"), headers=admin
    )
    assert bad_mode.status_code == 422
    no_team = client.post("/api/v1/mailboxes", json=_body(team_id + 999), headers=admin)
    assert no_team.status_code == 404


def test_the_connection_test_reports_failure_without_secrets(
    client: TestClient, admin: dict[str, str], team_id: int
) -> None:
    mailbox_id = client.post("/api/v1/mailboxes", json=_body(team_id), headers=admin).json()["id"]
    tested = client.post(f"/api/v1/mailboxes/{mailbox_id}/test", headers=admin)
    assert tested.status_code == 200
    assert tested.json()["ok"] is False
    assert PASSWORD not in tested.text


def test_the_template_starts_empty_and_keeps_what_is_saved(
    client: TestClient, admin: dict[str, str], team_id: int
) -> None:
    empty = client.get(f"/api/v1/teams/{team_id}/email-template", headers=admin)
    assert empty.status_code == 200
    assert empty.json()["acknowledgement_body_zh"] == ""
    assert "number" in empty.json()["placeholders"]
    saved = client.put(
        f"/api/v1/teams/{team_id}/email-template",
        json={"sender_name": "技术支持", "acknowledgement_subject_zh": "已收到 [{number}]"},
        headers=admin,
    )
    assert saved.status_code == 200
    assert saved.json()["acknowledgement_subject_zh"] == "已收到 [{number}]"
    assert saved.json()["acknowledgement_body_en"] == ""
