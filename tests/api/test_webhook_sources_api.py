"""HTTP contract of webhook sources (administrators): the secret is shown once, on creation and
on rotation, and never again."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.builders import bearer, make_agent, make_team

from closeloop.accounts.domain import Role
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork

BASE = "/api/v1/channels/webhook-sources"


def _admin(uow: UnitOfWork) -> dict[str, str]:
    headers = bearer(uow, make_agent(uow, role=Role.admin).email)
    uow.commit()
    return headers


def test_create_read_update_rotate_delete(client: TestClient, uow: UnitOfWork) -> None:
    headers = _admin(uow)
    team = make_team(uow)
    uow.commit()

    created = client.post(
        BASE,
        json={"name": "Call centre", "slug": "call-centre", "channel": "phone", "team_id": team.id},
        headers=headers,
    )

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    source: dict[str, Any] = created.json()
    assert source["secret"].startswith("whsec_")
    assert source["url_path"] == "/api/v1/channels/webhook/call-centre"
    assert (source["channel"], source["team_id"], source["replay_window_seconds"]) == (
        "phone",
        team.id,
        300,
    )
    url = f"{BASE}/{source['id']}"
    read = client.get(url, headers=headers).json()
    assert "secret" not in read
    assert [s["slug"] for s in client.get(BASE, headers=headers).json()] == ["call-centre"]
    assert source["secret"] not in client.get(BASE, headers=headers).text

    changed = client.patch(
        url, json={"replay_window_seconds": 600, "team_id": None}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["replay_window_seconds"], changed.json()["team_id"]) == (600, None)

    rotated = client.post(
        f"{url}/rotate-secret", json={"keep_previous_seconds": 60}, headers=headers
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] not in (source["secret"], None)
    assert rotated.json()["previous_secret_expires_at"] is not None

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    actions = uow.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "webhook_source", AuditEvent.entity_id == source["id"])
        .order_by(AuditEvent.sequence)
    ).all()
    assert list(dict.fromkeys(actions)) == [
        "webhook_source.created",
        "webhook_source.updated",
        "webhook_source.secret_rotated",
        "webhook_source.deleted",
    ]
    # The trail never holds a secret.
    values = uow.session.scalars(
        select(AuditEvent.new_value).where(AuditEvent.entity_type == "webhook_source")
    ).all()
    assert source["secret"] not in repr(values)


def test_refusals(client: TestClient, uow: UnitOfWork) -> None:
    headers = _admin(uow)
    agent_headers = bearer(uow, make_agent(uow).email)
    uow.commit()
    body = {"name": "App", "slug": "app"}
    assert client.post(BASE, json=body, headers=headers).status_code == 201
    taken = client.post(BASE, json=body, headers=headers)
    assert (taken.status_code, taken.json()["code"]) == (409, "webhook_source.slug_taken")
    for bad in (
        {"name": "x", "slug": "Not A Slug"},
        {"name": "x", "slug": "ok", "channel": "email"},
    ):
        assert client.post(BASE, json=bad, headers=headers).status_code == 422
    too_short = {"name": "x", "slug": "y", "replay_window_seconds": 5}
    assert client.post(BASE, json=too_short, headers=headers).status_code == 422
    assert (
        client.post(BASE, json={"name": "x", "slug": "z"}, headers=agent_headers).status_code == 403
    )
    unknown_team = {"name": "x", "slug": "t", "team_id": 999_999}
    assert client.post(BASE, json=unknown_team, headers=headers).status_code == 404
