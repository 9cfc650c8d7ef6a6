from __future__ import annotations

from fastapi.testclient import TestClient
from tests.builders import bearer, make_agent

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork


def test_create_then_read_ticket(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin)
    headers = bearer(uow, admin.email)
    uow.commit()
    created = client.post(
        "/api/v1/tickets",
        json={
            "subject": "打印机无法连接",
            "description": "Printer offline",
            "type": "fault",
            "priority": "P2",
            "requester": {"email": "li.lei@example.cn", "name": "李雷"},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["number"] == f"TK-{body['id']:06d}"
    assert body["status"] == "new"
    fetched = client.get(f"/api/v1/tickets/{body['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == body
    listed = client.get("/api/v1/tickets", params={"q": "打印机"}, headers=headers)
    assert [t["id"] for t in listed.json()["items"]] == [body["id"]]
