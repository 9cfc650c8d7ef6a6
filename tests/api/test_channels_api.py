"""HTTP contract of the inbound quarantine: admins list it (reasons in their language), release,
discard, and download a raw message; a page of quarantine walks with a cursor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.builders import bearer, make_agent

from closeloop.accounts.domain import IdentityKind, Role
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, SenderIdentity
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.domain import Channel

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(uow: UnitOfWork) -> dict[str, str]:
    agent = make_agent(uow, role=Role.admin)
    headers = bearer(uow, agent.email)
    uow.commit()
    return headers


def _quarantine(uow: UnitOfWork, settings: Settings, number: int, *, body: str = "") -> None:
    message = InboundMessage(
        channel=Channel.email,
        external_id=f"q{number}@example.net",
        sender=SenderIdentity(IdentityKind.email, "li.lei@example.net"),
        subject="",
        body_text=body,
        received_at=uow.clock.now(),
        raw=f"Message-ID: <q{number}@example.net>\r\n\r\n{body}".encode(),
    )
    ingest_settings = channel_service.IngestSettings.from_settings(settings)
    result = channel_service.ingest(uow, message, via="test", settings=ingest_settings)
    assert result.outcome == "quarantined"
    uow.commit()


def test_admin_lists_the_quarantine_in_their_language_page_by_page(
    client: TestClient, uow: UnitOfWork, admin: dict[str, str], settings: Settings
) -> None:
    for number in range(3):
        _quarantine(uow, settings, number)

    first = client.get(
        "/api/v1/channels/quarantine",
        params={"limit": 2},
        headers={**admin, "Accept-Language": "zh-CN"},
    )
    assert first.status_code == 200
    body = first.json()
    assert [item["external_id"] for item in body["items"]] == ["q2@example.net", "q1@example.net"]
    assert body["items"][0]["reason_code"] == "inbound.empty"
    assert body["items"][0]["has_raw"] is True
    rest = client.get(
        "/api/v1/channels/quarantine", params={"cursor": body["next_cursor"]}, headers=admin
    ).json()
    assert [item["external_id"] for item in rest["items"]] == ["q0@example.net"]
    assert rest["items"][0]["reason"] == "The message has no subject, no text and no attachments."
    assert rest["next_cursor"] is None


def test_a_broken_cursor_is_a_validation_problem(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/v1/channels/quarantine", params={"cursor": "!!"}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_release_discard_and_raw_download(
    client: TestClient, uow: UnitOfWork, admin: dict[str, str], settings: Settings
) -> None:
    _quarantine(uow, settings, 1)
    [item] = client.get("/api/v1/channels/quarantine", headers=admin).json()["items"]

    raw = client.get(f"/api/v1/channels/inbound/{item['id']}/raw", headers=admin)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "message/rfc822"
    assert raw.content == b"Message-ID: <q1@example.net>\r\n\r\n"

    released = client.post(f"/api/v1/channels/quarantine/{item['id']}/release", headers=admin)
    assert released.status_code == 200
    assert released.json()["outcome"] == "quarantined"  # still empty

    discarded = client.post(f"/api/v1/channels/quarantine/{item['id']}/discard", headers=admin)
    assert discarded.status_code == 200
    assert discarded.json()["outcome"] == "discarded"
    again = client.post(f"/api/v1/channels/quarantine/{item['id']}/discard", headers=admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("inbound.not_quarantined")
    missing = client.get("/api/v1/channels/inbound/999999/raw", headers=admin)
    assert missing.status_code == 404
