"""HTTP contract of WeChat accounts: administrators only, secrets write-only and encrypted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.builders import bearer, make_agent

from closeloop.accounts.domain import Role
from closeloop.audit.models import AuditEvent
from closeloop.channels.wechat.models import WeChatAccount
from closeloop.db.session import UnitOfWork

PROBLEM = "application/problem+json"
ACCOUNTS = "/api/v1/channels/wechat/accounts"
APP_SECRET = "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"
TOKEN = "closeloopToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = {
    "name": "客服服务号",
    "app_id": "wx5823bf96d3bd56c7",
    "app_secret": APP_SECRET,
    "token": TOKEN,
    "encoding_aes_key": AES_KEY,
    "encryption_mode": "safe",
}


@pytest.fixture
def admin(uow: UnitOfWork) -> dict[str, str]:
    headers = bearer(uow, make_agent(uow, role=Role.admin, password=None).email)
    uow.commit()
    return headers


@pytest.fixture
def agent(uow: UnitOfWork) -> dict[str, str]:
    headers = bearer(uow, make_agent(uow, password=None).email)
    uow.commit()
    return headers


def _secrets_absent(text: str) -> None:
    for secret in (APP_SECRET, TOKEN, AES_KEY):
        assert secret not in text


def test_create_list_update_delete(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork
) -> None:
    created = client.post(ACCOUNTS, json=ACCOUNT, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    _secrets_absent(created.text)
    assert body["callback_path"] == f"/api/v1/channels/wechat/{body['id']}/callback"
    assert body["has_encoding_aes_key"] is True
    assert body["encryption_mode"] == "safe"
    row = uow.session.get(WeChatAccount, body["id"])
    assert row is not None
    for column in (row.app_secret_encrypted, row.token_encrypted, row.encoding_aes_key_encrypted):
        assert column is not None
        _secrets_absent(column)

    listed = client.get(ACCOUNTS, headers=admin)
    assert [item["id"] for item in listed.json()] == [body["id"]]
    _secrets_absent(listed.text)

    changed = client.patch(
        f"{ACCOUNTS}/{body['id']}",
        json={"name": "售后服务号", "token": "newToken42", "encryption_mode": "plain"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "售后服务号"
    assert "newToken42" not in changed.text
    trail = uow.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "wechat_account")
    ).all()
    assert all("newToken42" not in str(event.new_value) for event in trail)

    assert client.get(f"{ACCOUNTS}/{body['id']}", headers=admin).status_code == 200
    assert client.delete(f"{ACCOUNTS}/{body['id']}", headers=admin).status_code == 204
    assert client.get(f"{ACCOUNTS}/{body['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"encoding_aes_key": None}, 422, id="safe_without_key_case"),
        pytest.param({"encoding_aes_key": "short"}, 422, id="bad_key_case"),
        pytest.param({"app_id": "not-an-app-id"}, 422, id="bad_app_id_case"),
        pytest.param({"token": "has space"}, 422, id="bad_token_case"),
        pytest.param({"encryption_mode": "loud"}, 422, id="bad_mode_case"),
        pytest.param({"team_id": 999_999}, 404, id="unknown_team_case"),
        pytest.param({"unknown": 1}, 422, id="unknown_field_case"),
    ],
)
def test_invalid_accounts_are_refused(
    client: TestClient,
    admin: dict[str, str],
    uow: UnitOfWork,
    change: dict[str, Any],
    status: int,
) -> None:
    response = client.post(ACCOUNTS, json={**ACCOUNT, **change}, headers=admin)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert uow.session.scalar(select(func.count()).select_from(WeChatAccount)) == 0


def test_an_app_id_is_connected_once(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post(ACCOUNTS, json=ACCOUNT, headers=admin).status_code == 201
    again = client.post(ACCOUNTS, json={**ACCOUNT, "name": "again"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("wechat.app_id_taken")


def test_switching_to_safe_mode_needs_a_key(client: TestClient, admin: dict[str, str]) -> None:
    plain = {**ACCOUNT, "encryption_mode": "plain", "encoding_aes_key": None}
    created = client.post(ACCOUNTS, json=plain, headers=admin).json()
    refused = client.patch(
        f"{ACCOUNTS}/{created['id']}", json={"encryption_mode": "safe"}, headers=admin
    )
    assert refused.status_code == 422
    accepted = client.patch(
        f"{ACCOUNTS}/{created['id']}",
        json={"encryption_mode": "compatible", "encoding_aes_key": AES_KEY},
        headers=admin,
    )
    assert accepted.status_code == 200
    assert accepted.json()["has_encoding_aes_key"] is True


def test_agents_may_not_see_accounts(client: TestClient, agent: dict[str, str]) -> None:
    assert client.get(ACCOUNTS, headers=agent).status_code == 403
    assert client.post(ACCOUNTS, json=ACCOUNT, headers=agent).status_code == 403
