"""HTTP contract of the ticket endpoints: status codes, bodies, problem+json, nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from tests.builders import bearer, make_agent, make_customer, make_team, make_ticket

from closeloop.accounts.domain import Role
from closeloop.accounts.models import Agent, Customer, Team
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.models import Ticket

PROBLEM = "application/problem+json"


@pytest.fixture
def admin_headers(uow: UnitOfWork) -> dict[str, str]:
    admin = make_agent(uow, role=Role.admin)
    headers = bearer(uow, admin.email)
    uow.commit()
    return headers


def _create(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "subject": "VPN disconnects every hour",
        "description": "Since Monday the VPN drops.",
        "type": "fault",
        "priority": "P2",
        "channel": "phone",
        "requester": {"email": "Wang.Fang@Example.cn", "name": "王芳"},
    }
    payload.update(overrides)
    payload = {key: value for key, value in payload.items() if value is not None}
    response = client.post("/api/v1/tickets", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _count(uow: UnitOfWork, model: Any) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_recognises_requester_by_email_in_any_case(
    client: TestClient, admin_headers: dict[str, str], uow: UnitOfWork
) -> None:
    first = _create(client, admin_headers)
    second = _create(client, admin_headers, requester={"email": "wang.fang@example.cn"})
    assert first["requester_id"] == second["requester_id"]
    assert _count(uow, Customer) == 1
    assert first["status"] == "new"
    assert first["channel"] == "phone"
    assert first["version"] == 1
    assert first["allowed_transitions"] == ["open", "in_progress", "pending", "resolved"]


def test_idempotency_key_returns_the_first_ticket(
    client: TestClient, admin_headers: dict[str, str], uow: UnitOfWork
) -> None:
    headers = {**admin_headers, "Idempotency-Key": "create-42"}
    payload = {"subject": "Invoice missing", "requester": {"email": "a@example.org"}}
    first = client.post("/api/v1/tickets", json=payload, headers=headers)
    again = client.post("/api/v1/tickets", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(uow, Ticket) == 1
    different = client.post(
        "/api/v1/tickets", json={**payload, "subject": "Other"}, headers=headers
    )
    assert different.status_code == 422
    assert different.json()["type"] == "urn:closeloop:problem:idempotency.key_reused"
    assert _count(uow, Ticket) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"subject": "x", "unknown": 1}, "unknown", id="unknown_field_case"),
        pytest.param({"subject": ""}, "subject", id="empty_subject_case"),
        pytest.param({"subject": "x", "priority": "P9"}, "priority", id="bad_enum_case"),
        pytest.param({"subject": "x", "requester_id": "abc"}, "requester_id", id="wrong_type_case"),
        pytest.param(
            {"subject": "x", "requester": {"email": "nope"}}, "requester.email", id="bad_email_case"
        ),
    ],
)
def test_bad_input_is_refused_precisely_and_changes_nothing(
    client: TestClient,
    admin_headers: dict[str, str],
    uow: UnitOfWork,
    payload: dict[str, Any],
    field: str,
) -> None:
    response = client.post("/api/v1/tickets", json=payload, headers=admin_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:closeloop:problem:validation_failed"
    assert body["status"] == 422
    assert field in [error["field"] for error in body["errors"]]
    assert _count(uow, Ticket) == 0


def test_missing_requester_is_a_clear_error(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/tickets", json={"subject": "x"}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["code"] == "ticket.requester_required"


def test_oversize_body_gets_413_problem(
    client: TestClient, admin_headers: dict[str, str], uow: UnitOfWork
) -> None:
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "big", "description": "x" * 70_000, "requester_id": 1},
        headers=admin_headers,
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:closeloop:problem:request.too_large"
    assert _count(uow, Ticket) == 0


def test_unknown_ticket_and_unauthenticated_are_problems(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    missing = client.get("/api/v1/tickets/999999", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:closeloop:problem:ticket.not_found"
    anonymous = client.get("/api/v1/tickets")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    wrong_token = client.get("/api/v1/tickets", headers={"Authorization": "Bearer clp_nope"})
    assert wrong_token.status_code == 401


def test_stale_version_gets_409_and_keeps_the_newer_change(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    ticket = _create(client, admin_headers)
    url = f"/api/v1/tickets/{ticket['id']}"
    first = client.patch(url, json={"version": 1, "priority": "P1"}, headers=admin_headers)
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "priority": "P4"}, headers=admin_headers)
    assert stale.status_code == 409
    assert stale.json()["code"] == "ticket.stale_version"
    assert stale.json()["current_version"] == 2
    assert client.get(url, headers=admin_headers).json()["priority"] == "P1"


def test_if_match_carries_the_version_and_a_missing_version_is_428(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    ticket = _create(client, admin_headers)
    url = f"/api/v1/tickets/{ticket['id']}"
    missing = client.patch(url, json={"subject": "New subject"}, headers=admin_headers)
    assert missing.status_code == 428
    assert missing.json()["code"] == "ticket.version_required"
    updated = client.patch(
        url, json={"subject": "New subject"}, headers={**admin_headers, "If-Match": '"1"'}
    )
    assert updated.status_code == 200
    assert updated.json()["subject"] == "New subject"


def test_illegal_transition_names_the_allowed_ones(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    ticket = _create(client, admin_headers)
    url = f"/api/v1/tickets/{ticket['id']}/transitions"
    refused = client.post(url, json={"status": "closed", "version": 1}, headers=admin_headers)
    assert refused.status_code == 409
    body = refused.json()
    assert body["type"] == "urn:closeloop:problem:ticket.invalid_transition"
    assert body["allowed"] == ["open", "in_progress", "pending", "resolved"]
    assert "open, in_progress, pending, resolved" in body["detail"]
    chinese = client.post(
        url,
        json={"status": "closed", "version": 1},
        headers={**admin_headers, "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert chinese.json()["detail"] != body["detail"]


def test_resolve_close_is_final_and_follow_up_links_back(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    ticket = _create(client, admin_headers)
    url = f"/api/v1/tickets/{ticket['id']}"
    resolved = client.post(
        f"{url}/transitions", json={"status": "resolved", "version": 1}, headers=admin_headers
    ).json()
    assert resolved["resolved_at"] is not None
    closed = client.post(
        f"{url}/transitions", json={"status": "closed", "version": 2}, headers=admin_headers
    ).json()
    assert closed["status"] == "closed"
    assert closed["allowed_transitions"] == []
    reply = client.post(f"{url}/messages", json={"body": "hello"}, headers=admin_headers)
    assert reply.status_code == 409
    assert reply.json()["code"] == "ticket.closed"
    follow_up = client.post(
        f"{url}/follow-ups", json={"subject": "Again broken"}, headers=admin_headers
    )
    assert follow_up.status_code == 201
    assert follow_up.json()["requester_id"] == ticket["requester_id"]
    timeline = client.get(
        f"/api/v1/tickets/{follow_up.json()['id']}/timeline", headers=admin_headers
    ).json()
    assert ["follow_up_of", ticket["id"]] in [[e["field"], e["new_value"]] for e in timeline]


def test_reply_sets_first_response_and_customer_reply_reopens(
    client: TestClient, uow: UnitOfWork, admin_headers: dict[str, str], clock: FrozenClock
) -> None:
    customer = make_customer(uow, email="li@example.cn")
    customer_headers = bearer(uow, "li@example.cn")
    uow.commit()
    ticket = _create(client, customer_headers, priority=None, requester=None, channel="portal")
    url = f"/api/v1/tickets/{ticket['id']}"
    assert ticket["requester_id"] == customer.id
    reply = client.post(f"{url}/messages", json={"body": "Please restart"}, headers=admin_headers)
    assert reply.status_code == 201
    after_reply = client.get(url, headers=admin_headers).json()
    assert after_reply["status"] == "in_progress"
    assert after_reply["first_response_at"] is not None
    client.post(
        f"{url}/messages", json={"kind": "internal_note", "body": "secret"}, headers=admin_headers
    )
    current_version = client.get(url, headers=admin_headers).json()["version"]
    resolved = client.post(
        f"{url}/transitions",
        json={"status": "resolved", "version": current_version},
        headers=admin_headers,
    )
    assert resolved.status_code == 200, resolved.text
    customer_reply = client.post(
        f"{url}/messages", json={"body": "Still broken"}, headers=customer_headers
    )
    assert customer_reply.status_code == 201
    assert customer_reply.json()["kind"] == "customer_message"
    reopened = client.get(url, headers=customer_headers).json()
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None
    thread = client.get(f"{url}/messages", headers=customer_headers).json()
    assert [m["kind"] for m in thread] == ["public_reply", "customer_message"]
    agent_thread = client.get(f"{url}/messages", headers=admin_headers).json()
    assert [m["kind"] for m in agent_thread] == [
        "public_reply",
        "internal_note",
        "customer_message",
    ]
    customer_timeline = client.get(f"{url}/timeline", headers=customer_headers).json()
    assert "internal_note" not in str(customer_timeline)


def test_customer_may_not_set_triage_fields_or_post_notes(
    client: TestClient, uow: UnitOfWork
) -> None:
    make_customer(uow, email="c@example.org")
    headers = bearer(uow, "c@example.org")
    uow.commit()
    refused = client.post(
        "/api/v1/tickets", json={"subject": "x", "priority": "P1"}, headers=headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "ticket.fields_not_allowed"
    assert _count(uow, Ticket) == 0
    ticket = client.post("/api/v1/tickets", json={"subject": "x"}, headers=headers).json()
    note = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"kind": "internal_note", "body": "sneaky"},
        headers=headers,
    )
    assert note.status_code == 403
    patch = client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"version": 1, "subject": "y"}, headers=headers
    )
    assert patch.status_code == 403


def test_visibility_invisible_tickets_answer_404(client: TestClient, uow: UnitOfWork) -> None:
    support = make_team(uow, name="Support")
    billing = make_team(uow, name="Billing")
    agent = make_agent(uow, teams=[support])
    customer = make_customer(uow)
    other_customer = make_customer(uow)
    own_team = make_ticket(uow, requester=customer, team_id=support.id)
    other_team = make_ticket(uow, requester=customer, team_id=billing.id)
    agent_headers = bearer(uow, agent.email)
    customer_headers = bearer(uow, other_customer_email(uow, other_customer))
    uow.commit()
    assert client.get(f"/api/v1/tickets/{own_team.id}", headers=agent_headers).status_code == 200
    hidden = client.get(f"/api/v1/tickets/{other_team.id}", headers=agent_headers)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "ticket.not_found"
    listed = client.get("/api/v1/tickets", headers=agent_headers).json()
    assert [t["id"] for t in listed["items"]] == [own_team.id]
    stranger = client.get(f"/api/v1/tickets/{own_team.id}", headers=customer_headers)
    assert stranger.status_code == 404
    assert client.get("/api/v1/tickets", headers=customer_headers).json()["items"] == []


def other_customer_email(uow: UnitOfWork, customer: Customer) -> str:
    from closeloop.accounts import service as accounts

    return next(i.value for i in accounts.identities_of(uow, [customer.id]) if i.kind == "email")


def test_list_filters_sort_and_keyset_pages(
    client: TestClient, uow: UnitOfWork, admin_headers: dict[str, str], clock: FrozenClock
) -> None:
    from datetime import timedelta

    team = make_team(uow)
    customer = make_customer(uow)
    created = []
    for index in range(7):
        clock.advance(timedelta(minutes=5))
        created.append(
            make_ticket(
                uow,
                requester=customer,
                subject=f"Printer {index}",
                priority="P1" if index % 2 else "P3",
                team_id=team.id if index < 4 else None,
                tags=["hardware"] if index in (1, 2) else [],
            )
        )
    uow.commit()
    ids = [t.id for t in created]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/tickets", params=params, headers=admin_headers).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    oldest_first = client.get(
        "/api/v1/tickets", params={"sort": "created_at", "limit": 2}, headers=admin_headers
    ).json()
    assert [t["id"] for t in oldest_first["items"]] == ids[:2]
    by_team = client.get(
        "/api/v1/tickets", params={"team_id": team.id, "priority": "P1"}, headers=admin_headers
    ).json()
    assert [t["id"] for t in by_team["items"]] == [ids[3], ids[1]]
    tagged = client.get("/api/v1/tickets", params={"tag": "hardware"}, headers=admin_headers).json()
    assert [t["id"] for t in tagged["items"]] == [ids[2], ids[1]]
    by_number = client.get(
        "/api/v1/tickets", params={"q": f"TK-{ids[4]:06d}"}, headers=admin_headers
    )
    assert [t["id"] for t in by_number.json()["items"]] == [ids[4]]
    bad_cursor = client.get("/api/v1/tickets", params={"cursor": "garbage"}, headers=admin_headers)
    assert bad_cursor.status_code == 422
    naive = client.get(
        "/api/v1/tickets", params={"created_after": "2026-01-01T00:00:00"}, headers=admin_headers
    )
    assert naive.status_code == 422


def test_text_query_finds_chinese_and_english_words_and_replies(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    printer = _create(client, admin_headers, subject="打印机无法连接网络", description="")
    vpn = _create(client, admin_headers, subject="VPN error 0x800", description="")
    client.post(
        f"/api/v1/tickets/{vpn['id']}/messages",
        json={"body": "请重启路由器"},
        headers=admin_headers,
    )

    def found(q: str) -> list[int]:
        page = client.get("/api/v1/tickets", params={"q": q}, headers=admin_headers).json()
        return [t["id"] for t in page["items"]]

    assert found("打印机") == [printer["id"]]
    assert found("连接") == [printer["id"]]
    assert found("vpn") == [vpn["id"]]
    assert found("erro") == [vpn["id"]]
    assert found("路由器") == [vpn["id"]]
    assert found("传真机") == []


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.mark.parametrize("params", [{}, {"status": "new", "team_id": 1}, {"q": "printer"}])
def test_list_is_a_fixed_number_of_statements(
    client: TestClient, uow: UnitOfWork, engine: Engine, params: dict[str, Any]
) -> None:
    agent = make_agent(uow, role=Role.supervisor)
    headers = bearer(uow, agent.email)
    customer = make_customer(uow)
    for index in range(30):
        make_ticket(uow, requester=customer, subject=f"printer {index}", tags=["a", "b"])
    uow.commit()
    client.get("/api/v1/tickets", headers=headers)  # token last-used stamp happens once
    with count_statements(engine) as statements:
        response = client.get("/api/v1/tickets", params=params, headers=headers)
    assert response.status_code == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # token with its agent + member and led teams (one union) + the page: none per ticket.
    assert len(selects) == 3, selects


def test_timeline_lists_every_change_with_actor_and_channel(
    client: TestClient, uow: UnitOfWork, admin_headers: dict[str, str]
) -> None:
    ticket = _create(client, admin_headers)
    url = f"/api/v1/tickets/{ticket['id']}"
    client.patch(
        url, json={"version": 1, "priority": "P1", "tags": ["VPN", "vpn "]}, headers=admin_headers
    )
    timeline = client.get(f"{url}/timeline", headers=admin_headers).json()
    changes = [(e["action"], e["field"], e["old_value"], e["new_value"]) for e in timeline]
    assert ("ticket.updated", "priority", "P2", "P1") in changes
    assert ("ticket.updated", "tags", [], ["vpn"]) in changes
    assert ("ticket.created", "status", None, "new") in changes
    assert {e["via"] for e in timeline} == {
        "api:POST /api/v1/tickets",
        "api:PATCH /api/v1/tickets/{ticket_id}",
    }
    assert [e["sequence"] for e in timeline] == list(range(1, len(timeline) + 1))
    stored = uow.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "ticket", AuditEvent.entity_id == ticket["id"]
        )
    ).all()
    assert len(stored) == len(timeline)


def test_assignment_rules(client: TestClient, uow: UnitOfWork) -> None:
    lead = make_agent(uow)
    team = make_team(uow, lead=lead)
    from closeloop.accounts.models import TeamMembership

    member = make_agent(uow, teams=[team])
    outsider = make_agent(uow)
    uow.session.add(TeamMembership(team_id=team.id, agent_id=lead.id, created_at=uow.clock.now()))
    customer = make_customer(uow)
    ticket = make_ticket(uow, requester=customer, team_id=team.id)
    member_headers = bearer(uow, member.email)
    lead_headers = bearer(uow, lead.email)
    uow.commit()
    url = f"/api/v1/tickets/{ticket.id}/assignment"
    to_other = client.post(
        url, json={"team_id": team.id, "assignee_id": lead.id, "version": 1}, headers=member_headers
    )
    assert to_other.status_code == 403
    to_self = client.post(
        url,
        json={"team_id": team.id, "assignee_id": member.id, "version": 1},
        headers=member_headers,
    )
    assert to_self.status_code == 200
    assert to_self.json()["status"] == "open"
    not_member = client.post(
        url,
        json={"team_id": team.id, "assignee_id": outsider.id, "version": 2},
        headers=lead_headers,
    )
    assert not_member.status_code == 422
    assert not_member.json()["errors"][0]["code"] == "not_a_member"
    by_lead = client.post(
        url, json={"team_id": team.id, "assignee_id": lead.id, "version": 2}, headers=lead_headers
    )
    assert by_lead.status_code == 200
    assert by_lead.json()["assignee_id"] == lead.id


def test_team_and_agent_references_must_exist(
    client: TestClient, admin_headers: dict[str, str], uow: UnitOfWork
) -> None:
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "x", "team_id": 424242, "requester": {"email": "x@example.org"}},
        headers=admin_headers,
    )
    assert response.status_code == 404
    assert response.json()["code"] == "team.not_found"
    assert _count(uow, Ticket) == 0
    assert _count(uow, Agent) == 1
    assert _count(uow, Team) == 0


def test_create_answers_the_ticket_as_committed_with_its_sla_clock(
    client: TestClient, app: FastAPI, uow: UnitOfWork, admin_headers: dict[str, str]
) -> None:
    from closeloop.accounts.domain import SYSTEM
    from closeloop.sla.service.seed import seed_default_sla
    from closeloop.wiring import build_event_bus

    app.state.bus = build_event_bus()  # the production reactions: routing, SLA, notifications
    seed_default_sla(uow, actor=SYSTEM)
    uow.commit()
    created = _create(client, admin_headers, priority="P1")
    assert created["sla_due_at"] is not None
    assert created["sla_state"] == "running"
    fetched = client.get(f"/api/v1/tickets/{created['id']}", headers=admin_headers).json()
    assert fetched == created
