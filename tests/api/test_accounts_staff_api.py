"""The HTTP contract of agents, teams, skills, the organisation and API tokens."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.builders import bearer, make_agent, make_skill, make_team

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork

PASSWORD = "correct horse battery"


def _audit_rows(make_uow: Callable[[], UnitOfWork]) -> int:
    with make_uow() as fresh:
        return int(fresh.session.execute(text("SELECT count(*) FROM audit_events")).scalar_one())


def test_an_admin_invites_an_agent_who_is_read_without_secrets(
    client: TestClient, uow: UnitOfWork
) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    headers = bearer(uow, admin.email)
    uow.commit()
    created = client.post(
        "/api/v1/agents",
        json={
            "name": "王芳",
            "email": "Wang.Fang@Example.cn",
            "role": "supervisor",
            "password": "a long enough secret",
            "time_zone": "Asia/Shanghai",
            "locale": "zh_CN",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {
        "id",
        "name",
        "email",
        "role",
        "locale",
        "time_zone",
        "is_active",
        "is_senior",
        "team_ids",
        "skills",
        "created_at",
        "updated_at",
        "last_login_at",
    }
    assert (body["email"], body["role"], body["team_ids"], body["skills"]) == (
        "wang.fang@example.cn",
        "supervisor",
        [],
        [],
    )
    assert client.get(f"/api/v1/agents/{body['id']}", headers=headers).json() == body
    signed_in = client.post(
        "/api/v1/auth/session",
        json={"email": "wang.fang@example.cn", "password": "a long enough secret"},
    )
    assert signed_in.status_code == 200


def test_the_last_admin_cannot_step_down_and_nothing_changes(
    client: TestClient, uow: UnitOfWork, make_uow: Callable[[], UnitOfWork]
) -> None:
    admin = make_agent(uow, role=Role.admin, name="Ada", password=None)
    headers = bearer(uow, admin.email)
    uow.commit()
    audit_before = _audit_rows(make_uow)
    for change in ({"role": "agent"}, {"is_active": False}):
        refused = client.patch(f"/api/v1/agents/{admin.id}", json=change, headers=headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json() == {
            "type": "urn:closeloop:problem:agent.last_admin",
            "title": "Last administrator",
            "status": 409,
            "detail": (
                "Ada is the last active administrator. Make another agent an administrator first."
            ),
            "instance": f"/api/v1/agents/{admin.id}",
            "code": "agent.last_admin",
        }
    me = client.get(f"/api/v1/agents/{admin.id}", headers=headers).json()
    assert (me["role"], me["is_active"]) == ("admin", True)
    assert _audit_rows(make_uow) == audit_before


def test_a_deactivated_agents_token_stops_working_at_once(
    client: TestClient, uow: UnitOfWork
) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    agent = make_agent(uow, password=None)
    admin_headers, agent_headers = bearer(uow, admin.email), bearer(uow, agent.email)
    uow.commit()
    assert client.get("/api/v1/auth/me", headers=agent_headers).status_code == 200
    deactivated = client.patch(
        f"/api/v1/agents/{agent.id}", json={"is_active": False}, headers=admin_headers
    )
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    refused = client.get("/api/v1/auth/me", headers=agent_headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.required"
    # Reactivation does not revive the revoked token.
    client.patch(f"/api/v1/agents/{agent.id}", json={"is_active": True}, headers=admin_headers)
    assert client.get("/api/v1/auth/me", headers=agent_headers).status_code == 401
    listed = client.get(f"/api/v1/api-tokens?agent_id={agent.id}", headers=admin_headers)
    assert listed.json() == []


def test_changing_your_own_password(client: TestClient, uow: UnitOfWork) -> None:
    agent = make_agent(uow, email="me@example.com", password=PASSWORD)
    headers = bearer(uow, agent.email)
    uow.commit()
    url = f"/api/v1/agents/{agent.id}/password"
    missing = client.post(url, json={"new_password": "n3w passphrase"}, headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (
        422,
        "agent.current_password_required",
    )
    wrong = client.post(
        url, json={"new_password": "n3w passphrase", "current_password": "nope"}, headers=headers
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "agent.current_password_wrong")
    changed = client.post(
        url, json={"new_password": "n3w passphrase", "current_password": PASSWORD}, headers=headers
    )
    assert changed.status_code == 204
    assert changed.content == b""
    old = client.post(
        "/api/v1/auth/session", json={"email": "me@example.com", "password": PASSWORD}
    )
    new = client.post(
        "/api/v1/auth/session", json={"email": "me@example.com", "password": "n3w passphrase"}
    )
    assert (old.status_code, new.status_code) == (401, 200)


def test_a_team_with_a_lead_lists_the_lead_as_member(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    lead, member = make_agent(uow, password=None), make_agent(uow, password=None)
    headers = bearer(uow, admin.email)
    uow.commit()
    created = client.post(
        "/api/v1/teams",
        json={"name": "Network", "email": "net@example.com", "lead_id": lead.id},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert (team["lead_id"], team["member_ids"], team["is_active"]) == (lead.id, [lead.id], True)
    joined = client.put(f"/api/v1/teams/{team['id']}/members/{member.id}", headers=headers)
    again = client.put(f"/api/v1/teams/{team['id']}/members/{member.id}", headers=headers)
    assert joined.json()["member_ids"] == again.json()["member_ids"] == sorted([lead.id, member.id])
    refused = client.delete(f"/api/v1/teams/{team['id']}/members/{lead.id}", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "team.lead_not_removable")
    lead_view = client.get(f"/api/v1/agents/{lead.id}", headers=headers).json()
    assert lead_view["team_ids"] == [team["id"]]
    fetched = client.get(f"/api/v1/teams/{team['id']}", headers=headers).json()
    assert fetched["member_ids"] == sorted([lead.id, member.id])


def test_a_repeated_create_with_the_same_idempotency_key_creates_one_team(
    client: TestClient, uow: UnitOfWork
) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    headers = bearer(uow, admin.email) | {"Idempotency-Key": "team-create-1"}
    uow.commit()
    first = client.post("/api/v1/teams", json={"name": "Retry"}, headers=headers)
    second = client.post("/api/v1/teams", json={"name": "Retry"}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    other_body = client.post("/api/v1/teams", json={"name": "Other"}, headers=headers)
    assert (other_body.status_code, other_body.json()["code"]) == (422, "idempotency.key_reused")
    names = [t["name"] for t in client.get("/api/v1/teams", headers=headers).json()]
    assert names == ["Retry"]


def test_a_duplicate_team_name_is_a_conflict(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    headers = bearer(uow, admin.email)
    uow.commit()
    assert client.post("/api/v1/teams", json={"name": "Sales"}, headers=headers).status_code == 201
    clash = client.post("/api/v1/teams", json={"name": "SALES"}, headers=headers)
    assert clash.status_code == 409
    assert clash.json()["type"] == "urn:closeloop:problem:account.name_taken"
    assert clash.json()["detail"] == "The name SALES is already used."


def test_input_is_validated_strictly(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    team = make_team(uow, name="T")
    headers = bearer(uow, admin.email)
    uow.commit()
    cases = [
        ("POST", "/api/v1/teams", {"name": "X", "colour": "red"}, "colour"),
        ("PATCH", f"/api/v1/teams/{team.id}", {"name": None}, "body"),
        ("PATCH", f"/api/v1/agents/{admin.id}", {"role": "owner"}, "role"),
        ("PATCH", "/api/v1/organisation", {"default_locale": "fr"}, "default_locale"),
    ]
    for method, url, body, field in cases:
        refused = client.request(method, url, json=body, headers=headers)
        assert refused.status_code == 422, (url, refused.text)
        problem = refused.json()
        assert problem["type"] == "urn:closeloop:problem:validation_failed"
        assert [e["field"] for e in problem["errors"]] == [field]


def test_skill_levels_through_the_api(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    agent = make_agent(uow, password=None)
    skill = make_skill(uow, name="Printers")
    headers = bearer(uow, admin.email)
    uow.commit()
    url = f"/api/v1/agents/{agent.id}/skills/{skill.id}"
    assert client.get(url, headers=headers).json()["code"] == "agent_skill.not_found"
    assert client.put(url, json={"level": 6}, headers=headers).status_code == 422
    put = client.put(url, json={"level": 4}, headers=headers)
    assert put.json() == {"agent_id": agent.id, "skill_id": skill.id, "level": 4}
    assert client.get(url, headers=headers).json()["level"] == 4
    listed = client.get(f"/api/v1/agents/{agent.id}/skills", headers=headers).json()
    assert listed == [{"skill_id": skill.id, "level": 4}]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_the_organisation_settings(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    agent = make_agent(uow, password=None)
    headers, agent_headers = bearer(uow, admin.email), bearer(uow, agent.email)
    uow.commit()
    unknown = client.patch(
        "/api/v1/organisation", json={"time_zone": "Beijing/China"}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "account.invalid_time_zone")
    changed = client.patch(
        "/api/v1/organisation",
        json={"name": "Acme 支持", "default_locale": "en", "time_zone": "Asia/Hong_Kong"},
        headers=headers,
    )
    assert changed.status_code == 200
    read = client.get("/api/v1/organisation", headers=agent_headers).json()
    assert (read["name"], read["default_locale"], read["time_zone"]) == (
        "Acme 支持",
        "en",
        "Asia/Hong_Kong",
    )


def test_an_api_token_secret_is_shown_once_and_revoking_it_locks_out(
    client: TestClient, uow: UnitOfWork
) -> None:
    agent = make_agent(uow, password=None)
    headers = bearer(uow, agent.email)
    uow.commit()
    created = client.post(
        "/api/v1/api-tokens",
        json={"name": "CI", "expires_at": "2027-01-01T00:00:00+08:00"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    token = created.json()
    secret = token["token"]
    assert secret.startswith("clp_")
    assert token["prefix"] == secret[:10]
    assert token["expires_at"] == "2026-12-31T16:00:00Z"
    listed = client.get("/api/v1/api-tokens", headers=headers).json()
    assert [t["id"] for t in listed if t["name"] == "CI"] == [token["id"]]
    assert all("token" not in t for t in listed)
    assert secret not in client.get("/api/v1/api-tokens", headers=headers).text
    new_headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/auth/me", headers=new_headers).json()["id"] == agent.id
    assert client.delete(f"/api/v1/api-tokens/{token['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=new_headers).status_code == 401


def test_a_naive_expiry_is_refused(client: TestClient, uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    headers = bearer(uow, agent.email)
    uow.commit()
    refused = client.post(
        "/api/v1/api-tokens", json={"expires_at": "2027-01-01T00:00:00"}, headers=headers
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["expires_at"]
