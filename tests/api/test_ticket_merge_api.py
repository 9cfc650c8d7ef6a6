"""HTTP contract of merging: the survivor answers, the source reads but no longer changes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from tests.builders import bearer, make_agent, make_customer, make_team, make_ticket

from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.tickets.models import Ticket

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


def _merge(
    client: TestClient,
    source: Ticket,
    survivor: Ticket,
    headers: dict[str, str],
    **extra: Any,
) -> Response:
    response: Response = client.post(
        f"/api/v1/tickets/{source.id}/merge",
        json={"into_ticket_id": survivor.id, **extra},
        headers=headers,
    )
    return response


def _setting(uow: UnitOfWork) -> tuple[Ticket, Ticket, dict[str, str], dict[str, str]]:
    """Source and survivor of one team and requester; headers of an agent and the requester."""
    team = make_team(uow)
    agent = make_agent(uow, teams=[team])
    requester = make_customer(uow, email="zhao.lei@example.cn")
    survivor = make_ticket(uow, requester=requester, team_id=team.id, subject="Mail is down")
    source = make_ticket(uow, requester=requester, team_id=team.id, subject="No email")
    agent_headers, customer_headers = bearer(uow, agent.email), bearer(uow, "zhao.lei@example.cn")
    uow.commit()
    return source, survivor, agent_headers, customer_headers


def _actions(client: TestClient, ticket: Ticket, headers: dict[str, str]) -> list[str]:
    entries = client.get(f"/api/v1/tickets/{ticket.id}/timeline", headers=headers).json()
    return list(dict.fromkeys(e["action"] for e in entries))


def test_merge_moves_messages_and_both_timelines_show_it(
    client: TestClient, uow: UnitOfWork
) -> None:
    source, survivor, agent_headers, customer_headers = _setting(uow)
    posted = client.post(
        f"/api/v1/tickets/{source.id}/messages",
        json={"body": "Outlook says offline"},
        headers=customer_headers,
    )
    version = client.get(f"/api/v1/tickets/{source.id}", headers=agent_headers).json()["version"]

    merged = _merge(client, source, survivor, agent_headers, version=version)
    source_now = client.get(f"/api/v1/tickets/{source.id}", headers=customer_headers)
    thread = client.get(f"/api/v1/tickets/{survivor.id}/messages", headers=customer_headers)
    changed = client.patch(
        f"/api/v1/tickets/{source.id}",
        json={"subject": "Still here?", "version": source_now.json()["version"]},
        headers=agent_headers,
    )

    assert merged.status_code == 200, merged.text
    assert (merged.json()["id"], merged.json()["status"]) == (survivor.id, "new")
    assert source_now.status_code == 200
    assert {
        k: source_now.json()[k] for k in ("status", "merged_into_id", "allowed_transitions")
    } == {
        "status": "closed",
        "merged_into_id": survivor.id,
        "allowed_transitions": [],
    }
    assert [(m["id"], m["ticket_id"], m["body"]) for m in thread.json()] == [
        (posted.json()["id"], survivor.id, "Outlook says offline")
    ]
    _problem(changed, 409, "ticket.merged")
    assert _actions(client, source, agent_headers) == [
        "ticket.created",
        "message.added",
        "ticket.merged",
    ]
    assert _actions(client, survivor, agent_headers) == [
        "ticket.created",
        "ticket.merged",
        "message.added",
    ]
    assert "ticket.merged" in _actions(client, source, customer_headers)


def test_if_match_carries_the_source_version(client: TestClient, uow: UnitOfWork) -> None:
    source, survivor, agent_headers, _ = _setting(uow)

    missing = _merge(client, source, survivor, agent_headers)
    stale = _merge(client, source, survivor, {**agent_headers, "If-Match": '"7"'})
    merged = _merge(client, source, survivor, {**agent_headers, "If-Match": '"1"'})
    again = _merge(client, source, survivor, {**agent_headers, "If-Match": '"2"'})

    _problem(missing, 428, "ticket.version_required")
    assert _problem(stale, 409, "ticket.stale_version")["current_version"] == 1
    assert merged.status_code == 200, merged.text
    _problem(again, 409, "ticket.merged")


def test_customer_may_not_merge_and_nothing_changes(
    client: TestClient, uow: UnitOfWork, bus: EventBus
) -> None:
    source, survivor, agent_headers, customer_headers = _setting(uow)
    client.post(
        f"/api/v1/tickets/{source.id}/messages", json={"body": "Hello"}, headers=customer_headers
    )
    hidden = make_ticket(uow, requester=make_customer(uow))
    uow.commit()
    sent: list[object] = []
    bus.subscribe(object, sent.append)

    _problem(
        _merge(client, source, survivor, customer_headers, version=1),
        403,
        "ticket.permission_denied",
    )
    _problem(_merge(client, source, hidden, customer_headers, version=1), 404, "ticket.not_found")
    _problem(_merge(client, source, survivor, {}, version=1), 401, "auth.required")

    read = client.get(f"/api/v1/tickets/{source.id}", headers=agent_headers).json()
    assert (read["status"], read["merged_into_id"], read["version"]) == ("new", None, 1)
    messages = client.get(f"/api/v1/tickets/{source.id}/messages", headers=agent_headers).json()
    assert [m["body"] for m in messages] == ["Hello"]
    assert "ticket.merged" not in _actions(client, survivor, agent_headers)
    assert sent == []


def test_agent_of_another_team_gets_404(client: TestClient, uow: UnitOfWork) -> None:
    source, survivor, agent_headers, _ = _setting(uow)
    outsider = make_agent(uow, teams=[make_team(uow)])
    outsider_headers = bearer(uow, outsider.email)
    uow.commit()

    _problem(_merge(client, source, survivor, outsider_headers, version=1), 404, "ticket.not_found")

    assert client.get(f"/api/v1/tickets/{source.id}", headers=agent_headers).json()["status"] == (
        "new"
    )


def test_merge_into_itself_is_a_409_problem(client: TestClient, uow: UnitOfWork) -> None:
    source, _, agent_headers, _ = _setting(uow)

    body = _problem(
        _merge(client, source, source, agent_headers, version=1), 409, "ticket.merge_not_allowed"
    )

    assert body["detail"] == (
        f"Ticket TK-{source.id:06d} cannot be merged into TK-{source.id:06d}: "
        "a ticket cannot be merged into itself."
    )
