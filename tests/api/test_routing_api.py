"""The HTTP contract of routing: rules and their dry run, refusals that change nothing,
transfers, and pull mode."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.builders import bearer, make_agent, make_customer, make_team, make_ticket

from closeloop import wiring
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus

RULES = "/api/v1/routing/rules"
VPN_RULE = {
    "name": "VPN",
    "conditions": [
        {"field": "text", "operator": "contains", "value": ["vpn", "远程连接"]},
        {"field": "priority", "operator": "equals", "value": "P4", "negate": True},
    ],
    "actions": {"priority": "P2", "add_tags": ["VPN"]},
}


def _count(make_uow: Callable[[], UnitOfWork], table: str) -> int:
    with make_uow() as fresh:
        return int(fresh.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_an_agent_may_read_rules_but_not_change_them(
    client: TestClient, uow: UnitOfWork, make_uow: Callable[[], UnitOfWork]
) -> None:
    agent = make_agent(uow, password=None)
    headers = bearer(uow, agent.email)
    uow.commit()
    audit_before = _count(make_uow, "audit_events")

    refused = client.post(RULES, json=VPN_RULE, headers=headers)

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "routing.rules_denied"
    assert _count(make_uow, "routing_rules") == 0
    assert _count(make_uow, "audit_events") == audit_before
    assert client.get(RULES, headers=headers).json() == []


def test_an_admin_manages_rules_and_a_dry_run_says_why(client: TestClient, uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    headers = bearer(uow, admin.email)
    uow.commit()

    vpn = client.post(RULES, json=VPN_RULE, headers=headers)
    assert vpn.status_code == 201, vpn.text
    assert vpn.json()["actions"] == {"priority": "P2", "add_tags": ["vpn"]}
    first = client.post(
        RULES,
        json={**VPN_RULE, "name": "Anything urgent", "conditions": [], "position": 1},
        headers=headers,
    ).json()
    listed = client.get(RULES, headers=headers).json()
    assert [(r["name"], r["position"]) for r in listed] == [("Anything urgent", 1), ("VPN", 2)]
    order = [vpn.json()["id"], first["id"]]
    assert [
        r["id"]
        for r in client.put(f"{RULES}/order", json={"rule_ids": order}, headers=headers).json()
    ] == order
    client.patch(f"{RULES}/{first['id']}", json={"is_active": False}, headers=headers)

    tried = client.post(
        f"{RULES}/dry-run",
        json={"ticket": {"subject": "远程连接断开", "priority": "P3"}},
        headers=headers,
    )

    assert tried.status_code == 200, tried.text
    body = tried.json()
    assert (body["fired_rule_id"], body["fired_rule_name"]) == (vpn.json()["id"], "VPN")
    assert [(r["name"], r["matched"], r["fired"], r["is_active"]) for r in body["rules"]] == [
        ("VPN", True, True, True),
        ("Anything urgent", False, False, False),
    ]
    assert [(c["matched"], c["found"], c["actual"]) for c in body["rules"][0]["conditions"]] == [
        (True, "远程连接", None),
        (True, None, "P3"),
    ]


def test_a_catastrophic_pattern_is_refused_with_the_reason(
    client: TestClient, uow: UnitOfWork
) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    headers = bearer(uow, admin.email)
    uow.commit()

    refused = client.post(
        RULES,
        json={
            "name": "Bad",
            "conditions": [{"field": "subject", "operator": "matches", "value": "(a+)+$"}],
            "actions": {"priority": "P1"},
        },
        headers=headers,
    )

    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "routing.invalid_rule"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("conditions.0.value", "unsafe_pattern")
    ]


def test_transferring_a_ticket_you_cannot_see_is_not_found_and_changes_nothing(
    client: TestClient, uow: UnitOfWork, make_uow: Callable[[], UnitOfWork]
) -> None:
    mine, theirs = make_team(uow), make_team(uow)
    agent = make_agent(uow, teams=[mine], password=None)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=theirs.id)
    headers = bearer(uow, agent.email)
    uow.commit()
    audit_before = _count(make_uow, "audit_events")

    refused = client.post(
        f"/api/v1/tickets/{ticket.id}/transfer",
        json={"team_id": mine.id, "reason": "ours now"},
        headers=headers,
    )

    assert refused.status_code == 404
    assert refused.json()["code"] == "ticket.not_found"
    assert _count(make_uow, "ticket_transfers") == 0
    assert _count(make_uow, "audit_events") == audit_before


def test_a_transfer_answers_the_ticket_and_keeps_the_history(
    client: TestClient, uow: UnitOfWork
) -> None:
    first, second = make_team(uow), make_team(uow)
    agent = make_agent(uow, teams=[first], password=None)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=first.id)
    headers = bearer(uow, agent.email)
    uow.commit()

    moved = client.post(
        f"/api/v1/tickets/{ticket.id}/transfer",
        json={"team_id": second.id, "reason": "需要网络组"},
        headers=headers,
    )

    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["ticket"]["team_id"], body["ping_pong"], body["transfer"]["reason"]) == (
        second.id,
        False,
        "需要网络组",
    )
    again = client.post(
        f"/api/v1/tickets/{ticket.id}/transfer",
        json={"team_id": second.id, "reason": "again"},
        headers=bearer(uow, make_agent(uow, role=Role.supervisor, password=None).email),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "routing.already_with_team"


def test_pull_mode_over_http(client: TestClient, uow: UnitOfWork, bus: EventBus) -> None:
    wiring.subscribe_routing(bus)
    team = make_team(uow)
    agent = make_agent(uow, teams=[team], password=None)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id, priority="P2")
    headers = bearer(uow, agent.email)
    customer = make_customer(uow)
    uow.commit()

    taken = client.post("/api/v1/routing/next", headers=headers)
    empty = client.post("/api/v1/routing/next", headers=headers)
    refused = client.post("/api/v1/routing/next", headers=bearer(uow, _email_of(uow, customer.id)))

    assert taken.status_code == 200, taken.text
    assert (taken.json()["ticket"]["id"], taken.json()["ticket"]["assignee_id"]) == (
        ticket.id,
        agent.id,
    )
    assert empty.json() == {"ticket": None, "reason": "queue_empty"}
    assert (refused.status_code, refused.json()["code"]) == (403, "routing.pull_denied")
    decisions = client.get(f"/api/v1/routing/tickets/{ticket.id}", headers=headers).json()
    assert [(d["field"], d["source"], d["detail"]) for d in decisions["decisions"]][-1] == (
        "assignee",
        "manual",
        "pulled",
    )


def _email_of(uow: UnitOfWork, customer_id: int) -> str:
    return accounts.identities_of(uow, [customer_id])[0].value
