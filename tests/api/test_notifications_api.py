"""HTTP contract of notifications and channels: own list only, admins only, secrets never shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.builders import bearer, make_agent, make_customer

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock
from closeloop.notifications import service as notifications
from closeloop.notifications.domain import NotificationEvent, Recipient
from closeloop.notifications.models import Notification, NotificationChannel

PROBLEM = "application/problem+json"
SECRET = "SECb6e0f1c2d3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0"
TOKEN = "0123456789abcdef0123456789abcdef"
CHANNEL = {
    "kind": "dingtalk",
    "name": "一线值班群",
    "url": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
    "secret": SECRET,
    "events": ["sla.warning", "sla.breached"],
}


def _count(uow: UnitOfWork, model: Any, *where: Any) -> int:
    uow.session.expire_all()
    return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def people(uow: UnitOfWork) -> dict[str, Any]:
    # No passwords: bearer tokens only, and no slow password hashing.
    admin = make_agent(uow, role=Role.admin, password=None)
    agent = make_agent(uow, password=None)
    other = make_agent(uow, password=None)
    make_customer(uow, email="reader@example.org")
    found = {
        "admin": bearer(uow, admin.email),
        "agent": bearer(uow, agent.email),
        "other": bearer(uow, other.email),
        "customer": bearer(uow, "reader@example.org"),
        "agent_id": agent.id,
        "other_id": other.id,
    }
    uow.commit()
    return found


def _tell(uow: UnitOfWork, agent_id: int, channel: str) -> None:
    notifications.notify(
        uow,
        event=NotificationEvent.channel_test,
        recipients=[Recipient.agent(agent_id)],
        params={"channel": channel},
    )


def test_agents_see_only_their_own_notifications_newest_first(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any], clock: FrozenClock
) -> None:
    for name in ("first", "second", "third"):
        _tell(uow, people["agent_id"], name)
        clock.advance(timedelta(minutes=1))
    _tell(uow, people["other_id"], "not yours")
    uow.commit()

    page = client.get("/api/v1/notifications?limit=2", headers=people["agent"])
    assert page.status_code == 200
    body = page.json()
    assert [item["body"] for item in body["items"]] == [
        "通知通道「third」配置正确。",
        "通知通道「second」配置正确。",
    ]
    assert body["items"][0]["is_read"] is False
    rest = client.get(
        f"/api/v1/notifications?limit=2&before={body['next_before']}", headers=people["agent"]
    ).json()
    assert [item["body"] for item in rest["items"]] == ["通知通道「first」配置正确。"]
    assert rest["next_before"] is None


def test_reading_someone_elses_notification_is_not_found_and_changes_nothing(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any]
) -> None:
    _tell(uow, people["other_id"], "theirs")
    _tell(uow, people["agent_id"], "mine")
    uow.commit()
    theirs = uow.session.scalar(
        select(Notification.id).where(Notification.recipient_agent_id == people["other_id"])
    )
    response = client.post(f"/api/v1/notifications/{theirs}/read", headers=people["agent"])
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:closeloop:problem:notification.not_found"
    assert _count(uow, Notification, Notification.read_at.is_not(None)) == 0


def test_read_one_then_all_and_the_unread_filter(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any], clock: FrozenClock
) -> None:
    for name in ("a", "b", "c"):
        _tell(uow, people["agent_id"], name)
    _tell(uow, people["other_id"], "theirs")
    uow.commit()
    mine = client.get("/api/v1/notifications", headers=people["agent"]).json()["items"]
    read = client.post(f"/api/v1/notifications/{mine[0]['id']}/read", headers=people["agent"])
    assert read.status_code == 200
    assert read.json()["read_at"] == clock.now().isoformat().replace("+00:00", "Z")
    unread = client.get("/api/v1/notifications?unread=true", headers=people["agent"]).json()
    assert len(unread["items"]) == 2
    everything = client.post("/api/v1/notifications/read-all", headers=people["agent"])
    assert everything.json() == {"marked_read": 2}
    assert client.get("/api/v1/notifications?unread=1", headers=people["agent"]).json() == {
        "items": [],
        "next_before": None,
    }
    # The other agent's notification is untouched.
    assert _count(uow, Notification, Notification.read_at.is_(None)) == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("customer", 403, id="customer_case"),
        pytest.param(None, 401, id="anonymous_case"),
    ],
)
def test_only_agents_have_a_notification_list(
    client: TestClient, people: dict[str, Any], who: str | None, status: int
) -> None:
    headers = people[who] if who else {}
    for method, path in (
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/read-all"),
        ("POST", "/api/v1/notifications/1/read"),
    ):
        response = client.request(method, path, headers=headers)
        assert response.status_code == status, (method, path)
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("who", ["agent", "customer"], ids=["agent_case", "customer_case"])
def test_only_admins_manage_channels_and_a_denial_changes_and_sends_nothing(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any], who: str
) -> None:
    created = client.post("/api/v1/notification-channels", json=CHANNEL, headers=people["admin"])
    channel_id = created.json()["id"]
    jobs_before = _count(uow, Job)
    headers = people[who]
    for method, path, body in (
        ("GET", "/api/v1/notification-channels", None),
        ("POST", "/api/v1/notification-channels", CHANNEL),
        ("PATCH", f"/api/v1/notification-channels/{channel_id}", {"name": "x"}),
        ("DELETE", f"/api/v1/notification-channels/{channel_id}", None),
        ("POST", f"/api/v1/notification-channels/{channel_id}/test", None),
    ):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["type"] == "urn:closeloop:problem:permission_denied"
    assert _count(uow, NotificationChannel) == 1
    channel = uow.session.get(NotificationChannel, channel_id)
    assert channel is not None
    assert channel.name == CHANNEL["name"]
    assert _count(uow, Job) == jobs_before


def test_the_secret_never_appears_in_any_answer(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any]
) -> None:
    admin = people["admin"]
    created = client.post("/api/v1/notification-channels", json=CHANNEL, headers=admin)
    assert created.status_code == 201
    channel_id = created.json()["id"]
    answers = [
        created,
        client.get("/api/v1/notification-channels", headers=admin),
        client.patch(
            f"/api/v1/notification-channels/{channel_id}",
            json={"name": "二线", "secret": SECRET + "2"},
            headers=admin,
        ),
        client.post(f"/api/v1/notification-channels/{channel_id}/test", headers=admin),
        client.get("/api/v1/openapi.json"),
    ]
    for answer in answers:
        assert answer.status_code < 300, answer.text
        assert SECRET not in answer.text
        assert TOKEN not in answer.text
    body = created.json()
    assert "secret" not in body
    assert body["has_secret"] is True
    assert body["url"] == "https://oapi.dingtalk.com/robot/send?access_token=0123…"
    assert set(body) == {
        "id",
        "kind",
        "name",
        "url",
        "has_secret",
        "events",
        "team_id",
        "is_active",
        "created_at",
        "updated_at",
    }


def test_channel_life_cycle(client: TestClient, uow: UnitOfWork, people: dict[str, Any]) -> None:
    admin = people["admin"]
    channel_id = client.post("/api/v1/notification-channels", json=CHANNEL, headers=admin).json()[
        "id"
    ]
    removed = client.patch(
        f"/api/v1/notification-channels/{channel_id}",
        json={"secret": None, "events": ["ticket.assigned"], "is_active": False},
        headers=admin,
    )
    assert removed.status_code == 200
    assert (removed.json()["has_secret"], removed.json()["events"]) == (False, ["ticket.assigned"])
    inactive = client.post(f"/api/v1/notification-channels/{channel_id}/test", headers=admin)
    assert inactive.status_code == 409
    assert inactive.json()["code"] == "notification_channel.inactive"
    client.patch(
        f"/api/v1/notification-channels/{channel_id}", json={"is_active": True}, headers=admin
    )
    queued = client.post(f"/api/v1/notification-channels/{channel_id}/test", headers=admin)
    assert queued.status_code == 202
    assert (queued.json()["status"], queued.json()["event"]) == ("pending", "notification.test")
    assert _count(uow, Job, Job.name == "notifications.deliver") == 1
    deleted = client.delete(f"/api/v1/notification-channels/{channel_id}", headers=admin)
    assert deleted.status_code == 204
    gone = client.patch(
        f"/api/v1/notification-channels/{channel_id}", json={"name": "x"}, headers=admin
    )
    assert gone.status_code == 404
    assert gone.json()["code"] == "notification_channel.not_found"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param({"kind": "webhook", "secret": None}, "secret_required", id="webhook_case"),
        pytest.param({"kind": "slack"}, "validation_failed", id="unknown_kind_case"),
        pytest.param({"url": "ftp://bot"}, "validation_failed", id="bad_url_case"),
        pytest.param({"events": []}, "validation_failed", id="no_events_case"),
        pytest.param({"events": ["notification.test"]}, "validation_failed", id="test_event_case"),
        pytest.param({"team_id": 999_999}, "team.not_found", id="unknown_team_case"),
    ],
)
def test_bad_channels_are_refused(
    client: TestClient, uow: UnitOfWork, people: dict[str, Any], change: dict[str, Any], code: str
) -> None:
    payload = {key: value for key, value in {**CHANNEL, **change}.items() if value is not None}
    response = client.post("/api/v1/notification-channels", json=payload, headers=people["admin"])
    assert response.status_code in (404, 422)
    assert response.json()["code"].endswith(code)
    assert _count(uow, NotificationChannel) == 0
