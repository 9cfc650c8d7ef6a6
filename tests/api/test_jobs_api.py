"""HTTP contract of the job queue endpoints: administrators only, dead letters, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.builders import bearer, make_agent
from tests.conftest import START

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock

PROBLEM = "application/problem+json"


def _headers(uow: UnitOfWork, role: Role) -> dict[str, str]:
    agent = make_agent(uow, role=role)
    headers = bearer(uow, agent.email)
    uow.commit()
    return headers


@pytest.fixture
def admin(uow: UnitOfWork) -> dict[str, str]:
    return _headers(uow, Role.admin)


def _job(uow: UnitOfWork, name: str, status: str, **fields: object) -> int:
    """A job in ``status`` (as the worker would have left it); returns its id."""
    enqueue(uow, name, {"ticket_id": 1})
    uow.session.flush()
    job = uow.session.scalars(select(Job).order_by(Job.id.desc()).limit(1)).one()
    job.status = status
    for field, value in fields.items():
        setattr(job, field, value)
    uow.commit()
    return job.id


def _dead(uow: UnitOfWork, name: str = "notifications.deliver") -> int:
    return _job(
        uow,
        name,
        "dead",
        attempts=8,
        finished_at=START,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )


def test_admin_lists_the_dead_letters(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork
) -> None:
    first = _dead(uow)
    _job(uow, "sla.scan_due", "succeeded", attempts=1, finished_at=START)
    second = _dead(uow, "channels.email.poll")

    response = client.get("/api/v1/jobs", params={"status": "dead"}, headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == [second, first]
    assert body["next_before_id"] is None
    assert body["items"][1] == {
        "id": first,
        "name": "notifications.deliver",
        "status": "dead",
        "attempts": 8,
        "max_attempts": 8,
        "run_at": "2026-11-25T02:00:00Z",
        "created_at": "2026-11-25T02:00:00Z",
        "finished_at": "2026-11-25T02:00:00Z",
        "locked_by": None,
        "locked_until": None,
        "last_error": "ConnectionRefusedError: [Errno 111] Connection refused",
    }
    assert "payload" not in body["items"][0]


def test_the_list_pages_by_id(client: TestClient, admin: dict[str, str], uow: UnitOfWork) -> None:
    ids = [_dead(uow) for _ in range(3)]

    first = client.get("/api/v1/jobs", params={"limit": 2}, headers=admin).json()
    rest = client.get(
        "/api/v1/jobs", params={"limit": 2, "before_id": first["next_before_id"]}, headers=admin
    ).json()

    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    assert first["next_before_id"] == ids[1]
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert rest["next_before_id"] is None


def test_admin_retries_a_dead_job(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork, clock: FrozenClock
) -> None:
    job_id = _dead(uow)
    later = START + timedelta(hours=3)
    clock.set(later)

    response = client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["attempts"], body["finished_at"]) == ("queued", 0, None)
    assert body["run_at"] == "2026-11-25T05:00:00Z"
    assert body["last_error"] == "ConnectionRefusedError: [Errno 111] Connection refused"
    uow.session.expire_all()
    stored = uow.session.get(Job, job_id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.run_at) == ("queued", 0, later)


def test_a_failed_job_waiting_for_its_retry_can_be_run_now(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork
) -> None:
    job_id = _job(uow, "sla.scan_due", "failed", attempts=2, run_at=START + timedelta(hours=1))

    response = client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["run_at"]) == (
        "queued",
        "2026-11-25T02:00:00Z",
    )


@pytest.mark.parametrize("status", ["queued", "running", "succeeded"])
def test_only_dead_or_failed_jobs_can_be_retried(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork, status: str
) -> None:
    job_id = _job(uow, "sla.scan_due", status)

    response = client.post(f"/api/v1/jobs/{job_id}/retry", headers=admin)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:closeloop:problem:job.not_retryable"
    assert response.json()["status"] == 409
    assert response.json()["job_status"] == status
    assert response.json()["detail"] == (
        f"Job {job_id} is {status}; only dead or failed jobs can be retried."
    )
    uow.session.expire_all()
    assert uow.session.get(Job, job_id).status == status  # type: ignore[union-attr]


def test_retrying_an_unknown_job_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/jobs/987654/retry", headers=admin)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:closeloop:problem:job.not_found"
    assert response.json()["detail"] == "Job 987654 does not exist."


def test_stats_count_every_status(
    client: TestClient, admin: dict[str, str], uow: UnitOfWork
) -> None:
    _dead(uow)
    _dead(uow)
    _job(uow, "sla.scan_due", "succeeded")
    _job(uow, "sla.scan_due", "queued")

    response = client.get("/api/v1/jobs/stats", headers=admin)

    assert response.status_code == 200
    assert response.json() == {"queued": 1, "running": 0, "succeeded": 1, "failed": 0, "dead": 2}


@pytest.mark.parametrize("role", [Role.agent, Role.supervisor])
def test_agents_and_supervisors_are_refused_and_nothing_changes(
    client: TestClient, uow: UnitOfWork, role: Role
) -> None:
    job_id = _dead(uow)
    headers = _headers(uow, role)

    listed = client.get("/api/v1/jobs", params={"status": "dead"}, headers=headers)
    stats = client.get("/api/v1/jobs/stats", headers=headers)
    retried = client.post(f"/api/v1/jobs/{job_id}/retry", headers=headers)

    for response in (listed, stats, retried):
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "urn:closeloop:problem:permission_denied"
    uow.session.expire_all()
    assert uow.session.get(Job, job_id).status == "dead"  # type: ignore[union-attr]


def test_anonymous_callers_must_authenticate(client: TestClient) -> None:
    response = client.get("/api/v1/jobs")

    assert response.status_code == 401
    assert response.json()["type"] == "urn:closeloop:problem:auth.required"
