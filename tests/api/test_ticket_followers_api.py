"""HTTP contract of followers (CC): add, list, remove; the company rule; who may."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from tests.builders import bearer, make_agent, make_company, make_customer, make_team, make_ticket

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.tickets.models import Ticket, TicketFollower

PROBLEM = "application/problem+json"


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


def _count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(TicketFollower)) or 0)


def _add(client: TestClient, ticket: Ticket, headers: dict[str, str], **who: int) -> Response:
    response: Response = client.post(
        f"/api/v1/tickets/{ticket.id}/followers", json=who, headers=headers
    )
    return response


def test_agent_of_another_team_follows_and_can_then_read(
    client: TestClient, uow: UnitOfWork
) -> None:
    team = make_team(uow)
    agent = make_agent(uow, teams=[team])
    watcher = make_agent(uow, teams=[make_team(uow)])
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    headers, watcher_headers = bearer(uow, agent.email), bearer(uow, watcher.email)
    uow.commit()
    before = client.get(f"/api/v1/tickets/{ticket.id}", headers=watcher_headers)

    added = _add(client, ticket, headers, agent_id=watcher.id)
    listed = client.get(f"/api/v1/tickets/{ticket.id}/followers", headers=headers)
    after = client.get(f"/api/v1/tickets/{ticket.id}", headers=watcher_headers)

    _problem(before, 404, "ticket.not_found")
    assert added.status_code == 201, added.text
    follower = added.json()
    assert follower == {
        "id": follower["id"],
        "agent_id": watcher.id,
        "customer_id": None,
        "created_at": "2026-11-25T02:00:00Z",
    }
    assert (listed.status_code, listed.json()) == (200, [follower])
    assert after.status_code == 200


def test_customer_of_another_company_is_a_clear_422(client: TestClient, uow: UnitOfWork) -> None:
    supervisor = make_agent(uow, role=Role.supervisor)
    requester = make_customer(uow, company=make_company(uow))
    stranger = make_customer(uow, name="Chen Jie", company=make_company(uow))
    ticket = make_ticket(uow, requester=requester)
    headers = bearer(uow, supervisor.email)
    uow.commit()

    body = _problem(
        _add(client, ticket, headers, customer_id=stranger.id), 422, "ticket.follower_other_company"
    )

    assert body["detail"] == (
        f"Chen Jie belongs to another company than the requester of ticket TK-{ticket.id:06d}, "
        "so they cannot follow it. Add colleagues of the requester only."
    )
    assert _count(uow) == 0


def test_requester_adds_a_colleague_who_then_unfollows(client: TestClient, uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, email="requester@example.cn", company=company)
    colleague = make_customer(uow, email="colleague@example.cn", company=company)
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=requester)
    requester_headers = bearer(uow, "requester@example.cn")
    colleague_headers = bearer(uow, "colleague@example.cn")
    uow.commit()

    denied_agent = _add(client, ticket, requester_headers, agent_id=agent.id)
    added = _add(client, ticket, requester_headers, customer_id=colleague.id)
    readable = client.get(f"/api/v1/tickets/{ticket.id}", headers=colleague_headers)
    listed = client.get(f"/api/v1/tickets/{ticket.id}/followers", headers=colleague_headers)
    follower_id = added.json()["id"]
    removed = client.delete(
        f"/api/v1/tickets/{ticket.id}/followers/{follower_id}", headers=colleague_headers
    )
    gone = client.get(f"/api/v1/tickets/{ticket.id}", headers=colleague_headers)

    _problem(denied_agent, 403, "ticket.permission_denied")
    assert added.status_code == 201, added.text
    assert readable.status_code == 200
    assert [(f["agent_id"], f["customer_id"]) for f in listed.json()] == [(None, colleague.id)]
    assert removed.status_code == 204
    _problem(gone, 404, "ticket.not_found")
    assert _count(uow) == 0


def test_customers_see_only_customer_followers(client: TestClient, uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, email="boss@example.cn", company=company)
    colleague = make_customer(uow, company=company)
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=requester)
    admin = make_agent(uow, role=Role.admin)
    admin_headers, customer_headers = bearer(uow, admin.email), bearer(uow, "boss@example.cn")
    uow.commit()
    agent_follower = _add(client, ticket, admin_headers, agent_id=agent.id).json()
    _add(client, ticket, admin_headers, customer_id=colleague.id)

    seen_by_staff = client.get(f"/api/v1/tickets/{ticket.id}/followers", headers=admin_headers)
    seen_by_customer = client.get(
        f"/api/v1/tickets/{ticket.id}/followers", headers=customer_headers
    )
    hidden_delete = client.delete(
        f"/api/v1/tickets/{ticket.id}/followers/{agent_follower['id']}", headers=customer_headers
    )

    assert [(f["agent_id"], f["customer_id"]) for f in seen_by_staff.json()] == [
        (agent.id, None),
        (None, colleague.id),
    ]
    assert [(f["agent_id"], f["customer_id"]) for f in seen_by_customer.json()] == [
        (None, colleague.id)
    ]
    _problem(hidden_delete, 404, "ticket.follower_not_found")
    assert _count(uow) == 2


def test_follower_request_needs_exactly_one_person(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin)
    ticket = make_ticket(uow, requester=make_customer(uow))
    headers = bearer(uow, admin.email)
    uow.commit()

    both = _add(client, ticket, headers, agent_id=admin.id, customer_id=ticket.requester_id)
    anonymous = _add(client, ticket, {}, agent_id=admin.id)

    _problem(both, 422, "validation_failed")
    _problem(anonymous, 401, "auth.required")
    assert _count(uow) == 0
