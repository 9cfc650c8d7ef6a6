"""HTTP contract of attachments: upload, metadata, download, limits and who may read what."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from tests.builders import bearer, make_agent, make_customer, make_team, make_ticket

from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.models import Attachment, Ticket

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.7\n" + b"0" * 100


def _files(settings: Settings) -> list[Path]:
    root = settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(Attachment)) or 0)


def _upload(
    client: TestClient,
    ticket: Ticket,
    headers: dict[str, str],
    data: bytes = PDF,
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
) -> Response:
    response: Response = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        files={"file": (filename, data, content_type)},
        headers=headers,
    )
    return response


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


def _setting(uow: UnitOfWork) -> tuple[Ticket, dict[str, str], dict[str, str]]:
    """A ticket of a team; headers of an agent of that team and of the requester."""
    team = make_team(uow)
    agent = make_agent(uow, teams=[team])
    requester = make_customer(uow, email="li.lei@example.cn")
    ticket = make_ticket(uow, requester=requester, team_id=team.id)
    agent_headers, customer_headers = bearer(uow, agent.email), bearer(uow, "li.lei@example.cn")
    uow.commit()
    return ticket, agent_headers, customer_headers


def test_upload_attach_and_download(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, agent_headers, customer_headers = _setting(uow)

    uploaded = _upload(client, ticket, agent_headers, filename="报告 final.pdf")
    body = uploaded.json()
    posted = client.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"body": "Here is the report", "attachment_ids": [body["id"]]},
        headers=agent_headers,
    )
    metadata = client.get(f"/api/v1/attachments/{body['id']}", headers=customer_headers)
    content = client.get(f"/api/v1/attachments/{body['id']}/content", headers=customer_headers)

    assert uploaded.status_code == 201, uploaded.text
    digest = hashlib.sha256(PDF).hexdigest()
    assert body == {
        "id": body["id"],
        "ticket_id": ticket.id,
        "message_id": None,
        "filename": "报告 final.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": digest,
        "created_at": "2026-11-25T02:00:00Z",
    }
    assert posted.status_code == 201, posted.text
    assert metadata.status_code == 200
    assert metadata.json() == {**body, "message_id": posted.json()["id"]}
    assert posted.json()["attachments"] == [metadata.json()]
    assert content.status_code == 200
    assert content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-length"] == str(len(PDF))
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"] == (
        "attachment; filename=\"__ final.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20final.pdf"
    )
    assert _files(settings) == [settings.attachments_dir / digest[:2] / digest[2:4] / digest]


def test_upload_over_the_limit_is_413_and_stores_nothing(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, agent_headers, _ = _setting(uow)

    response = _upload(client, ticket, agent_headers, b"x" * (settings.max_attachment_bytes + 1))

    body = _problem(response, 413, "attachment.too_large")
    assert body["detail"] == (
        f"The file report.pdf is larger than the limit of {settings.max_attachment_bytes} bytes."
    )
    assert _count(uow) == 0
    assert _files(settings) == []


def test_body_far_over_the_limit_is_cut_off_before_the_handler(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, agent_headers, _ = _setting(uow)

    response = _upload(client, ticket, agent_headers, b"x" * (settings.max_attachment_bytes * 2))

    _problem(response, 413, "request.too_large")
    assert _count(uow) == 0
    assert _files(settings) == []


def test_blocked_extension_is_422_and_stores_nothing(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, _, customer_headers = _setting(uow)

    response = _upload(
        client, ticket, customer_headers, b"MZ...", "Setup.EXE", "application/octet-stream"
    )

    body = _problem(response, 422, "attachment.rejected")
    assert body["blocked_extension"] == ".exe"
    assert body["detail"] == (
        "The file Setup.EXE was refused: files ending in .exe are not accepted."
    )
    assert _count(uow) == 0
    assert _files(settings) == []


def test_identical_bytes_are_stored_once(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, agent_headers, customer_headers = _setting(uow)

    first = _upload(client, ticket, agent_headers, filename="a.pdf").json()
    second = _upload(client, ticket, customer_headers, filename="b.pdf").json()

    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    assert _count(uow) == 2
    assert len(_files(settings)) == 1


def test_customer_gets_404_for_an_attachment_of_an_internal_note(
    client: TestClient, uow: UnitOfWork
) -> None:
    ticket, agent_headers, customer_headers = _setting(uow)
    attachment = _upload(client, ticket, agent_headers).json()
    note = client.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"kind": "internal_note", "body": "logs", "attachment_ids": [attachment["id"]]},
        headers=agent_headers,
    )
    assert note.status_code == 201, note.text

    for path in ("", "/content"):
        refused = client.get(
            f"/api/v1/attachments/{attachment['id']}{path}", headers=customer_headers
        )
        _problem(refused, 404, "attachment.not_found")
    allowed = client.get(f"/api/v1/attachments/{attachment['id']}/content", headers=agent_headers)
    assert (allowed.status_code, allowed.content) == (200, PDF)


def test_upload_needs_a_ticket_the_caller_can_read(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ticket, _, _ = _setting(uow)
    outsider = make_agent(uow, teams=[make_team(uow)])
    make_customer(uow, email="stranger@example.org")
    outsider_headers = bearer(uow, outsider.email)
    stranger_headers = bearer(uow, "stranger@example.org")
    uow.commit()

    _problem(_upload(client, ticket, {}), 401, "auth.required")
    _problem(_upload(client, ticket, outsider_headers), 404, "ticket.not_found")
    _problem(_upload(client, ticket, stranger_headers), 404, "ticket.not_found")

    assert _count(uow) == 0
    assert _files(settings) == []


def test_upload_without_a_file_is_a_validation_problem(client: TestClient, uow: UnitOfWork) -> None:
    ticket, agent_headers, _ = _setting(uow)

    response = client.post(
        f"/api/v1/tickets/{ticket.id}/attachments",
        data={"other": "x"},
        files={"unrelated": ("a.txt", b"a", "text/plain")},
        headers=agent_headers,
    )

    body = _problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["file"]
