"""HTTP contract of the CRM lookup settings and the test lookup (against a local server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.builders import bearer, make_agent
from tests.integration.channels.crm_server import TOKEN, CrmServer

from closeloop.accounts.domain import Role
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm.models import CrmSettings
from closeloop.db.session import UnitOfWork

BASE = "/api/v1/channels/crm"


@pytest.fixture
def crm_server() -> Iterator[CrmServer]:
    server = CrmServer().start()
    yield server
    server.stop()


def test_settings_and_test_lookup(
    client: TestClient, uow: UnitOfWork, crm_server: CrmServer
) -> None:
    headers = bearer(uow, make_agent(uow, role=Role.admin).email)
    uow.commit()
    fresh = client.get(BASE, headers=headers)
    assert fresh.status_code == 200
    assert (fresh.json()["is_enabled"], fresh.json()["has_token"]) == (False, False)
    assert client.post(f"{BASE}/test", json={"email": "a@b.cn"}, headers=headers).status_code == 422

    changed = client.patch(
        BASE,
        json={
            "is_enabled": True,
            "url_template": crm_server.template,
            "token": TOKEN,
            "tier_path": "/data/0/level",
            "tier_values": {"Gold": "vip"},
            "company_path": "data.0.company.name",
        },
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["has_token"] is True
    assert TOKEN not in changed.text
    crm_server.state.records["wang.fang@example.cn"] = {
        "data": [{"level": "gold", "company": {"name": "示例公司"}}]
    }

    tried = client.post(f"{BASE}/test", json={"email": "wang.fang@example.cn"}, headers=headers)

    assert tried.status_code == 200, tried.text
    result = tried.json()
    assert (result["found"], result["tier"], result["raw_tier"], result["company"]) == (
        True,
        "vip",
        "gold",
        "示例公司",
    )
    assert result["url"].endswith("email=wang.fang%40example.cn&phone=")
    unknown = client.post(f"{BASE}/test", json={"phone": "13800138000"}, headers=headers).json()
    assert (unknown["found"], unknown["status_code"]) == (False, 404)
    crm_server.state.status_override = 500
    failed = client.post(f"{BASE}/test", json={"phone": "1"}, headers=headers).json()
    assert failed["error"] == "the CRM answered HTTP 500"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"is_enabled": True}, id="on_without_address_case"),
        pytest.param({"url_template": "ftp://crm/{email}"}, id="not_http_case"),
        pytest.param({"url_template": "https://crm/?q={mail}"}, id="unknown_placeholder_case"),
        pytest.param({"url_template": "http://[crm/{email}"}, id="unparseable_address_case"),
        pytest.param({"tier_values": {"gold": "platinum"}}, id="unknown_tier_case"),
        pytest.param({"timeout_seconds": 0}, id="no_timeout_case"),
    ],
)
def test_unusable_settings_answer_422(
    client: TestClient, uow: UnitOfWork, body: dict[str, object]
) -> None:
    headers = bearer(uow, make_agent(uow, role=Role.admin).email)
    uow.commit()
    assert client.patch(BASE, json=body, headers=headers).status_code == 422


def test_a_token_stored_under_another_server_key_answers_409_not_500(
    client: TestClient, uow: UnitOfWork
) -> None:
    headers = bearer(uow, make_agent(uow, role=Role.admin).email)
    uow.commit()
    saved = client.patch(
        BASE,
        json={"url_template": "https://crm.example/c?e={email}", "token": TOKEN},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    row = uow.session.scalars(select(CrmSettings)).one()
    row.token_encrypted = channel_cipher("another-server-secret-key-0123456789").encrypt(TOKEN)
    uow.commit()
    tried = client.post(f"{BASE}/test", json={"email": "a@b.cn"}, headers=headers)
    assert tried.status_code == 409
    assert tried.headers["content-type"].startswith("application/problem+json")
    assert tried.json()["code"] == "crm.token_unreadable"
    assert TOKEN not in tried.text
