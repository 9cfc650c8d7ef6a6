"""HTTP contract of ticket links: create, list, delete; who may; loops refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from tests.builders import bearer, make_agent, make_customer, make_team, make_ticket

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.tickets.models import Ticket, TicketLink

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
    return int(uow.session.scalar(select(func.count()).select_from(TicketLink)) or 0)


def _link(
    client: TestClient, ticket: Ticket, target: Ticket, headers: dict[str, str], kind: str
) -> Response:
    response: Response = client.post(
        f"/api/v1/tickets/{ticket.id}/links",
        json={"target_ticket_id": target.id, "kind": kind},
        headers=headers,
    )
    return response


def _timeline_links(client: TestClient, ticket: Ticket, headers: dict[str, str]) -> list[Any]:
    entries = client.get(f"/api/v1/tickets/{ticket.id}/timeline", headers=headers).json()
    return [
        (e["action"], e["old_value"], e["new_value"])
        for e in entries
        if e["action"] in ("ticket.linked", "ticket.unlinked")
    ]


def test_agent_links_lists_and_unlinks(client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_agent(uow, teams=[team])
    requester = make_customer(uow)
    first = make_ticket(uow, requester=requester, team_id=team.id)
    second = make_ticket(uow, requester=requester, team_id=team.id)
    headers = bearer(uow, agent.email)
    uow.commit()

    created = _link(client, first, second, headers, "duplicate_of")
    again = _link(client, first, second, headers, "duplicate_of")
    listed = client.get(f"/api/v1/tickets/{second.id}/links", headers=headers)
    link = created.json()
    deleted = client.delete(f"/api/v1/tickets/{second.id}/links/{link['id']}", headers=headers)
    after = client.get(f"/api/v1/tickets/{first.id}/links", headers=headers)

    assert created.status_code == 201, created.text
    assert link == {
        "id": link["id"],
        "source_ticket_id": first.id,
        "target_ticket_id": second.id,
        "kind": "duplicate_of",
        "created_at": "2026-11-25T02:00:00Z",
    }
    assert (again.status_code, again.json()) == (201, link)
    assert (listed.status_code, listed.json()) == (200, [link])
    assert deleted.status_code == 204
    assert (after.status_code, after.json()) == (200, [])
    described = {key: link[key] for key in ("id", "kind", "source_ticket_id", "target_ticket_id")}
    for ticket in (first, second):
        assert _timeline_links(client, ticket, headers) == [
            ("ticket.linked", None, described),
            ("ticket.unlinked", described, None),
        ]


def test_parent_loop_is_a_409_problem(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.supervisor)
    requester = make_customer(uow)
    top, bottom = make_ticket(uow, requester=requester), make_ticket(uow, requester=requester)
    headers = bearer(uow, admin.email)
    uow.commit()
    assert _link(client, top, bottom, headers, "parent_of").status_code == 201

    refused = _link(client, bottom, top, headers, "parent_of")

    body = _problem(refused, 409, "ticket.link_not_allowed")
    assert body["detail"] == (
        "This link cannot be created: "
        "the other ticket is already above this one, so the link would make a loop."
    )
    assert _count(uow) == 1


def test_customer_may_not_link_and_nothing_changes(client: TestClient, uow: UnitOfWork) -> None:
    requester = make_customer(uow, email="wang.fang@example.cn")
    first, second = make_ticket(uow, requester=requester), make_ticket(uow, requester=requester)
    hidden = make_ticket(uow, requester=make_customer(uow))
    headers = bearer(uow, "wang.fang@example.cn")
    uow.commit()

    _problem(_link(client, first, second, headers, "related"), 403, "ticket.permission_denied")
    _problem(_link(client, first, hidden, headers, "related"), 404, "ticket.not_found")
    _problem(_link(client, first, second, {}, "related"), 401, "auth.required")

    assert _count(uow) == 0
    assert _timeline_links(client, first, headers) == []


def test_link_to_a_ticket_of_another_team_is_404(client: TestClient, uow: UnitOfWork) -> None:
    team, other_team = make_team(uow), make_team(uow)
    agent = make_agent(uow, teams=[team])
    requester = make_customer(uow)
    mine = make_ticket(uow, requester=requester, team_id=team.id)
    theirs = make_ticket(uow, requester=requester, team_id=other_team.id)
    headers = bearer(uow, agent.email)
    uow.commit()

    body = _problem(_link(client, mine, theirs, headers, "related"), 404, "ticket.not_found")

    assert body["detail"] == f"Ticket {theirs.id} does not exist."
    assert _count(uow) == 0


def test_unknown_kind_and_history_kinds_are_refused(client: TestClient, uow: UnitOfWork) -> None:
    agent = make_agent(uow, role=Role.supervisor)
    requester = make_customer(uow)
    first, second = make_ticket(uow, requester=requester), make_ticket(uow, requester=requester)
    headers = bearer(uow, agent.email)
    uow.commit()

    unknown = _problem(_link(client, first, second, headers, "blocks"), 422, "validation_failed")
    _problem(_link(client, first, second, headers, "merged_into"), 409, "ticket.link_not_allowed")

    assert [e["field"] for e in unknown["errors"]] == ["kind"]
    assert _count(uow) == 0


def test_deleting_a_link_of_another_ticket_is_404(client: TestClient, uow: UnitOfWork) -> None:
    agent = make_agent(uow, role=Role.supervisor)
    requester = make_customer(uow)
    first, second, third = (make_ticket(uow, requester=requester) for _ in range(3))
    headers = bearer(uow, agent.email)
    uow.commit()
    link = _link(client, first, second, headers, "related").json()

    refused = client.delete(f"/api/v1/tickets/{third.id}/links/{link['id']}", headers=headers)

    _problem(refused, 404, "ticket.link_not_found")
    assert _count(uow) == 1
