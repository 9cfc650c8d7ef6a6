"""HTTP contract of custom field definitions, and tickets refused when their values are wrong."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from tests.builders import bearer, make_agent, make_custom_field, make_customer

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import TicketType
from closeloop.tickets.models import CustomFieldDefinition, Ticket

PROBLEM = "application/problem+json"
REGION = {
    "key": "region",
    "label_en": "Region",
    "label_zh": "区域",
    "field_type": "select",
    "ticket_type": "fault",
    "options": ["华东", "华北"],
    "is_required": True,
}


def _problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"], body["code"]) == (
        f"urn:closeloop:problem:{code}",
        status,
        code,
    )
    return body


def _count(uow: UnitOfWork, model: Any) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _headers(uow: UnitOfWork) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Headers of an administrator, an agent and a customer."""
    admin, agent = make_agent(uow, role=Role.admin), make_agent(uow)
    make_customer(uow, email="customer@example.cn")
    headers = (bearer(uow, admin.email), bearer(uow, agent.email))
    customer = bearer(uow, "customer@example.cn")
    uow.commit()
    return headers[0], headers[1], customer


def test_admin_creates_and_deactivates_agents_list(client: TestClient, uow: UnitOfWork) -> None:
    admin, agent, _ = _headers(uow)

    created = client.post("/api/v1/custom-fields", json=REGION, headers=admin)
    field = created.json()
    listed = client.get("/api/v1/custom-fields", params={"ticket_type": "fault"}, headers=agent)
    other_type = client.get(
        "/api/v1/custom-fields", params={"ticket_type": "inquiry"}, headers=agent
    )
    patched = client.patch(
        f"/api/v1/custom-fields/{field['id']}", json={"is_active": False}, headers=admin
    )
    active = client.get("/api/v1/custom-fields", headers=agent)
    everything = client.get("/api/v1/custom-fields?include_inactive=true", headers=agent)

    assert created.status_code == 201, created.text
    assert field == {
        **REGION,
        "id": field["id"],
        "position": 0,
        "is_active": True,
        "created_at": "2026-11-25T02:00:00Z",
        "updated_at": "2026-11-25T02:00:00Z",
    }
    assert (listed.status_code, listed.json()) == (200, [field])
    assert (other_type.status_code, other_type.json()) == (200, [])
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**field, "is_active": False}
    assert active.json() == []
    assert [f["id"] for f in everything.json()] == [field["id"]]


def test_only_admins_change_and_customers_do_not_list(client: TestClient, uow: UnitOfWork) -> None:
    admin, agent, customer = _headers(uow)
    field = client.post("/api/v1/custom-fields", json=REGION, headers=admin).json()

    created = client.post("/api/v1/custom-fields", json={**REGION, "key": "other"}, headers=agent)
    patched = client.patch(
        f"/api/v1/custom-fields/{field['id']}", json={"label_en": "Area"}, headers=agent
    )
    listed = client.get("/api/v1/custom-fields", headers=customer)
    anonymous = client.get("/api/v1/custom-fields")

    _problem(created, 403, "custom_field.permission_denied")
    _problem(patched, 403, "custom_field.permission_denied")
    _problem(listed, 403, "permission_denied")
    _problem(anonymous, 401, "auth.required")
    assert _count(uow, CustomFieldDefinition) == 1
    assert client.get("/api/v1/custom-fields", headers=agent).json()[0]["label_en"] == "Region"


def test_bad_definitions_are_problems(client: TestClient, uow: UnitOfWork) -> None:
    admin, _, _ = _headers(uow)
    field = client.post("/api/v1/custom-fields", json=REGION, headers=admin).json()

    taken = client.post(
        "/api/v1/custom-fields", json={**REGION, "ticket_type": None}, headers=admin
    )
    invalid = client.post(
        "/api/v1/custom-fields", json={**REGION, "key": "Other", "options": []}, headers=admin
    )
    fixed = client.patch(
        f"/api/v1/custom-fields/{field['id']}", json={"key": "renamed"}, headers=admin
    )
    missing = client.patch("/api/v1/custom-fields/999999", json={"label_en": "X"}, headers=admin)

    _problem(taken, 409, "custom_field.key_taken")
    body = _problem(invalid, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("key", "invalid_key"),
        ("options", "options_required"),
    ]
    _problem(fixed, 422, "validation_failed")
    _problem(missing, 404, "custom_field.not_found")
    assert _count(uow, CustomFieldDefinition) == 1


def test_ticket_needs_its_required_field(client: TestClient, uow: UnitOfWork) -> None:
    admin, _, _ = _headers(uow)
    make_custom_field(
        uow,
        key="region",
        field_type=FieldType.select,
        ticket_type=TicketType.fault,
        options=["华东", "华北"],
        is_required=True,
        label_en="Region",
    )
    uow.commit()
    ticket = {"subject": "Router broken", "type": "fault", "requester": {"email": "a@example.cn"}}

    missing = client.post("/api/v1/tickets", json=ticket, headers=admin)
    other_type = client.post("/api/v1/tickets", json={**ticket, "type": "inquiry"}, headers=admin)

    body = _problem(missing, 422, "validation_failed")
    assert body["errors"] == [
        {"field": "custom_fields.region", "code": "required", "message": "Region is required."}
    ]
    assert other_type.status_code == 201, other_type.text
    assert _count(uow, Ticket) == 1


def test_select_refuses_a_value_that_is_not_an_option(client: TestClient, uow: UnitOfWork) -> None:
    admin, _, _ = _headers(uow)
    make_custom_field(
        uow, key="region", field_type=FieldType.select, options=["华东", "华北"], label_en="Region"
    )
    uow.commit()
    ticket = {"subject": "Invoice", "requester": {"email": "b@example.cn"}}

    refused = client.post(
        "/api/v1/tickets", json={**ticket, "custom_fields": {"region": "华南"}}, headers=admin
    )
    accepted = client.post(
        "/api/v1/tickets", json={**ticket, "custom_fields": {"region": "华北"}}, headers=admin
    )

    body = _problem(refused, 422, "validation_failed")
    assert body["errors"] == [
        {
            "field": "custom_fields.region",
            "code": "not_an_option",
            "message": "Region must be one of: 华东, 华北.",
        }
    ]
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["custom_fields"] == {"region": "华北"}
    assert _count(uow, Ticket) == 1
