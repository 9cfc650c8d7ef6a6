"""The HTTP contract of customers and companies: a customer is found by any identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.builders import bearer, make_agent, make_company, make_customer

from closeloop.db.session import UnitOfWork


def _rows(make_uow: Callable[[], UnitOfWork], query: str) -> list[tuple[Any, ...]]:
    with make_uow() as fresh:
        return [tuple(row) for row in fresh.session.execute(text(query))]


@pytest.fixture
def agent_headers(uow: UnitOfWork) -> dict[str, str]:
    agent = make_agent(uow, password=None)
    return bearer(uow, agent.email)


def _create_li_lei(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    created = client.post(
        "/api/v1/customers",
        json={
            "name": "李雷",
            "emails": ["Li.Lei@Example.CN"],
            "phones": ["138 0013 8000"],
            "wechat_openid": "oAbC-123_xyz",
            "external_id": "crm:42",
            "tier": "vip",
            "notes": "Calls after lunch",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_a_created_customer_shows_identities_grouped_by_kind(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str]
) -> None:
    uow.commit()
    body = _create_li_lei(client, agent_headers)
    identities = body["identities"]
    assert {
        kind: [(i["value"], i["is_primary"]) for i in group] for kind, group in identities.items()
    } == {
        "email": [("li.lei@example.cn", True)],
        "phone": [("+8613800138000", True)],
        "wechat_openid": [("oAbC-123_xyz", True)],
        "external_id": [("crm:42", True)],
    }
    assert (body["name"], body["tier"], body["notes"], body["company_id"]) == (
        "李雷",
        "vip",
        "Calls after lunch",
        None,
    )
    assert client.get(f"/api/v1/customers/{body['id']}", headers=agent_headers).json() == body


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"email": "LI.LEI@example.cn"}, id="email_case"),
        pytest.param({"phone": "138 0013 8000"}, id="phone_spaces_case"),
        pytest.param({"phone": "+8613800138000"}, id="phone_e164_case"),
        pytest.param({"phone": "13800138000"}, id="phone_national_case"),
        pytest.param({"wechat_openid": "oAbC-123_xyz"}, id="openid_case"),
        pytest.param({"external_id": "crm:42"}, id="external_id_case"),
        pytest.param({"q": "138 0013 8000"}, id="q_phone_case"),
        pytest.param({"q": "li.lei@"}, id="q_email_prefix_case"),
        pytest.param({"q": "李"}, id="q_name_case"),
        pytest.param({"q": "oAbC-123_xyz"}, id="q_openid_case"),
    ],
)
def test_a_customer_can_be_found_by_any_of_its_identities(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str], query: dict[str, str]
) -> None:
    make_customer(uow, name="Han Meimei", email="han@example.cn")
    uow.commit()
    li_lei = _create_li_lei(client, agent_headers)
    found = client.get("/api/v1/customers", params=query, headers=agent_headers)
    assert found.status_code == 200
    assert found.json() == {"items": [li_lei], "next_cursor": None}


def test_customers_are_listed_newest_first_a_page_at_a_time(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str]
) -> None:
    made = [make_customer(uow, name=f"Zhao {n}") for n in range(3)]
    uow.commit()
    first = client.get("/api/v1/customers?q=zhao&limit=2", headers=agent_headers).json()
    second = client.get(
        "/api/v1/customers",
        params={"q": "zhao", "limit": 2, "cursor": first["next_cursor"]},
        headers=agent_headers,
    ).json()
    assert [c["id"] for c in first["items"]] == [made[2].id, made[1].id]
    assert [c["id"] for c in second["items"]] == [made[0].id]
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/customers?cursor=garbage", headers=agent_headers)
    assert (bad.status_code, bad.json()["type"]) == (
        422,
        "urn:closeloop:problem:account.invalid_cursor",
    )


def test_a_customer_reads_and_renames_themself_but_changes_nothing_else(
    client: TestClient, uow: UnitOfWork, make_uow: Callable[[], UnitOfWork]
) -> None:
    me = make_customer(uow, name="Me", email="me@example.cn")
    other = make_customer(uow, name="Other")
    headers = bearer(uow, "me@example.cn")
    uow.commit()
    mine = client.get(f"/api/v1/customers/{me.id}", headers=headers)
    assert mine.status_code == 200
    assert mine.json()["notes"] is None
    renamed = client.patch(
        f"/api/v1/customers/{me.id}", json={"name": "小明", "locale": "zh_CN"}, headers=headers
    )
    assert (renamed.json()["name"], renamed.json()["locale"]) == ("小明", "zh_CN")
    before = _rows(make_uow, "SELECT * FROM customers ORDER BY id")
    audit_before = _rows(make_uow, "SELECT count(*) FROM audit_events")
    refused = client.patch(
        f"/api/v1/customers/{me.id}", json={"name": "VIP me", "tier": "vip"}, headers=headers
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:closeloop:problem:permission_denied"
    hidden = client.get(f"/api/v1/customers/{other.id}", headers=headers)
    missing = client.get("/api/v1/customers/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert {k: v for k, v in hidden.json().items() if k not in ("detail", "instance")} == {
        k: v for k, v in missing.json().items() if k not in ("detail", "instance")
    }
    assert _rows(make_uow, "SELECT * FROM customers ORDER BY id") == before
    assert _rows(make_uow, "SELECT count(*) FROM audit_events") == audit_before


def test_identities_are_added_and_removed_but_never_the_last_one(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str]
) -> None:
    customer = make_customer(uow, email="only@example.cn")
    make_customer(uow, email="taken@example.cn")
    uow.commit()
    url = f"/api/v1/customers/{customer.id}/identities"
    (only,) = client.get(f"/api/v1/customers/{customer.id}", headers=agent_headers).json()[
        "identities"
    ]["email"]
    last = client.delete(f"{url}/{only['id']}", headers=agent_headers)
    assert last.status_code == 409
    assert last.json()["type"] == "urn:closeloop:problem:customer.last_identity"
    taken = client.post(
        url, json={"kind": "email", "value": "TAKEN@example.cn"}, headers=agent_headers
    )
    assert (taken.status_code, taken.json()["code"]) == (409, "customer.identity_taken")
    invalid = client.post(url, json={"kind": "phone", "value": "call me"}, headers=agent_headers)
    assert (invalid.status_code, invalid.json()["code"]) == (422, "customer.invalid_identity")
    added = client.post(
        url, json={"kind": "phone", "value": "+86 139 0013 9000"}, headers=agent_headers
    )
    assert added.status_code == 201
    assert (added.json()["kind"], added.json()["value"], added.json()["is_primary"]) == (
        "phone",
        "+8613900139000",
        True,
    )
    assert client.delete(f"{url}/{only['id']}", headers=agent_headers).status_code == 204
    found = client.get("/api/v1/customers?phone=13900139000", headers=agent_headers).json()
    assert [c["id"] for c in found["items"]] == [customer.id]
    assert client.get("/api/v1/customers?email=only@example.cn", headers=agent_headers).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_a_customer_needs_an_identity(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str]
) -> None:
    uow.commit()
    refused = client.post("/api/v1/customers", json={"name": "Nobody"}, headers=agent_headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_failed"


def test_companies_through_the_api(
    client: TestClient, uow: UnitOfWork, agent_headers: dict[str, str]
) -> None:
    busy = make_company(uow, name="Busy Ltd")
    make_customer(uow, company=busy)
    uow.commit()
    created = client.post(
        "/api/v1/companies",
        json={"name": "Acme", "domain": "ACME.com", "tier": "vip"},
        headers=agent_headers | {"Idempotency-Key": "company-1"},
    )
    assert created.status_code == 201, created.text
    acme = created.json()
    assert (acme["domain"], acme["tier"]) == ("acme.com", "vip")
    bad_domain = client.patch(
        f"/api/v1/companies/{acme['id']}", json={"domain": "acme"}, headers=agent_headers
    )
    assert (bad_domain.status_code, bad_domain.json()["code"]) == (422, "company.invalid_domain")
    page = client.get("/api/v1/companies?limit=1", headers=agent_headers).json()
    rest = client.get(
        "/api/v1/companies",
        params={"limit": 1, "cursor": page["next_cursor"]},
        headers=agent_headers,
    ).json()
    assert [c["name"] for c in page["items"] + rest["items"]] == ["Acme", "Busy Ltd"]
    in_use = client.delete(f"/api/v1/companies/{busy.id}", headers=agent_headers)
    assert in_use.status_code == 409
    assert in_use.json()["detail"] == (
        "The company Busy Ltd still has 1 customers. Move them to another first."
    )
    assert (
        client.delete(f"/api/v1/companies/{acme['id']}", headers=agent_headers).status_code == 204
    )
    assert client.get(f"/api/v1/companies/{acme['id']}", headers=agent_headers).status_code == 404
