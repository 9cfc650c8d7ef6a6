"""HTTP contract of the SLA endpoints: admins change, staff read, problem+json, exact reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from tests.builders import (
    bearer,
    customer_principal,
    make_agent,
    make_customer,
    make_team,
    make_ticket,
    principal_of,
)

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Role
from closeloop.accounts.models import Agent
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.sla import service as sla
from closeloop.sla.models import BusinessCalendar, CalendarDay, SlaPolicy
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketStatus
from closeloop.tickets.schemas import MessageCreate
from closeloop.wiring import subscribe_sla

PROBLEM = "application/problem+json"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def sla_reactions(bus: EventBus) -> None:
    """The app's bus reacts to ticket changes with the SLA clocks, as ``create_app`` does."""
    subscribe_sla(bus)


@pytest.fixture
def admin(uow: UnitOfWork) -> Agent:
    agent = make_agent(uow, role=Role.admin)
    uow.commit()
    return agent


@pytest.fixture
def admin_headers(uow: UnitOfWork, admin: Agent) -> dict[str, str]:
    headers = bearer(uow, admin.email)
    uow.commit()
    return headers


@pytest.fixture
def agent_headers(uow: UnitOfWork) -> dict[str, str]:
    agent = make_agent(uow)
    headers = bearer(uow, agent.email)
    uow.commit()
    return headers


@pytest.fixture
def customer_headers(uow: UnitOfWork) -> dict[str, str]:
    customer = make_customer(uow, email="reader@example.org")
    headers = bearer(uow, "reader@example.org")
    uow.commit()
    assert customer_principal(customer).is_customer
    return headers


def _count(uow: UnitOfWork, model: type[Any]) -> int:
    uow.session.expire_all()
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:closeloop:problem:{code}"
    return body


# --- calendars ----------------------------------------------------------------------------


def test_an_admin_creates_a_calendar_from_a_preset_and_with_split_hours(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    first = client.post(
        "/api/v1/sla/calendars",
        json={"name": "Desk", "time_zone": "Asia/Shanghai", "preset": "7x12"},
        headers=admin_headers,
    )
    assert first.status_code == 201, first.text
    assert first.json()["is_default"] is True  # the first calendar is the default
    assert first.json()["weekly_hours"]["sun"] == ["09:00-21:00"]
    split = client.post(
        "/api/v1/sla/calendars",
        json={
            "name": "Office",
            "weekly_hours": {"mon": ["9:00-12:00", "13:00-18:00"], "fri": ["09:00-12:00"]},
        },
        headers=admin_headers,
    ).json()
    assert split["time_zone"] == "Asia/Shanghai"  # the organisation's
    assert split["weekly_hours"] == {"mon": ["09:00-12:00", "13:00-18:00"], "fri": ["09:00-12:00"]}
    assert split["is_default"] is False
    listed = client.get("/api/v1/sla/calendars", headers=admin_headers).json()
    assert [c["name"] for c in listed] == ["Desk", "Office"]
    made_default = client.patch(
        f"/api/v1/sla/calendars/{split['id']}", json={"is_default": True}, headers=admin_headers
    )
    assert made_default.json()["is_default"] is True
    assert (
        client.get(f"/api/v1/sla/calendars/{first.json()['id']}", headers=admin_headers).json()[
            "is_default"
        ]
        is False
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param(
            {"weekly_hours": {"mon": ["21:00-09:00"]}}, "weekly_hours", id="backwards_case"
        ),
        pytest.param(
            {"weekly_hours": {"mon": ["09:00-13:00", "12:00-18:00"]}},
            "weekly_hours",
            id="overlap_case",
        ),
        pytest.param({"weekly_hours": {"funday": ["09:00-18:00"]}}, "weekly_hours", id="day_case"),
        pytest.param({"weekly_hours": {}}, "weekly_hours", id="no_hours_case"),
        pytest.param({"preset": "7x12", "time_zone": "Mars/Base"}, "time_zone", id="zone_case"),
    ],
)
def test_bad_calendar_hours_answer_problem_json_and_create_nothing(
    client: TestClient,
    uow: UnitOfWork,
    admin_headers: dict[str, str],
    payload: dict[str, Any],
    field: str,
) -> None:
    response = client.post(
        "/api/v1/sla/calendars", json={"name": "Broken", **payload}, headers=admin_headers
    )
    body = _problem(response, 422, "sla.invalid_calendar")
    assert [e["field"] for e in body["errors"]] == [field]
    assert _count(uow, BusinessCalendar) == 0


def test_agents_read_calendars_but_may_not_change_them(
    client: TestClient,
    uow: UnitOfWork,
    admin_headers: dict[str, str],
    agent_headers: dict[str, str],
    customer_headers: dict[str, str],
) -> None:
    calendar = client.post(
        "/api/v1/sla/calendars", json={"name": "Desk", "preset": "24x7"}, headers=admin_headers
    ).json()
    url = f"/api/v1/sla/calendars/{calendar['id']}"
    assert client.get(url, headers=agent_headers).status_code == 200
    _problem(
        client.post(
            "/api/v1/sla/calendars", json={"name": "Mine", "preset": "24x7"}, headers=agent_headers
        ),
        403,
        "sla.permission_denied",
    )
    _problem(
        client.patch(url, json={"preset": "7x12"}, headers=agent_headers),
        403,
        "sla.permission_denied",
    )
    _problem(client.delete(url, headers=agent_headers), 403, "sla.permission_denied")
    _problem(
        client.post(
            f"{url}/holidays/bundled", json={"region": "CN", "year": 2026}, headers=agent_headers
        ),
        403,
        "sla.permission_denied",
    )
    _problem(client.get(url, headers=customer_headers), 403, "sla.read_denied")
    assert client.get("/api/v1/sla/calendars").status_code == 401
    assert _count(uow, BusinessCalendar) == 1
    assert _count(uow, CalendarDay) == 0
    assert client.get(url, headers=agent_headers).json()["weekly_hours"]["mon"] == ["00:00-24:00"]


def test_holidays_are_imported_from_a_file_or_from_the_bundled_schedule(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    calendar = client.post(
        "/api/v1/sla/calendars", json={"name": "Desk", "preset": "weekdays"}, headers=admin_headers
    ).json()
    url = f"/api/v1/sla/calendars/{calendar['id']}"
    bundled = client.post(
        f"{url}/holidays/bundled", json={"region": "CN", "year": 2026}, headers=admin_headers
    ).json()
    assert (bundled["holidays"], bundled["makeup_workdays"]) == (33, 6)
    assert len(bundled["calendar"]["days"]) == 39
    # A file for the same year replaces that year's days.
    imported = client.post(
        f"{url}/holidays/import",
        json={
            "year": 2026,
            "region": "CN",
            "holidays": [{"date": "2026-12-25", "name": "Company day"}],
            "makeup_workdays": [{"date": "2026-12-27", "name": "调休"}],
        },
        headers=admin_headers,
    )
    assert imported.status_code == 200, imported.text
    days = [(d["date"], d["kind"], d["name"]) for d in imported.json()["calendar"]["days"]]
    assert days == [
        ("2026-12-25", "holiday", "Company day"),
        ("2026-12-27", "makeup_workday", "调休"),
    ]
    broken = client.post(
        f"{url}/holidays/import",
        json={
            "year": 2026,
            "region": "CN",
            "holidays": [{"date": "2026-12-26"}],
            "makeup_workdays": [{"date": "2026-12-24"}],
        },
        headers=admin_headers,
    )
    body = _problem(broken, 422, "sla.invalid_holiday_file")
    assert "Saturdays or Sundays" in body["errors"][0]["message"]
    _problem(
        client.post(
            f"{url}/holidays/bundled", json={"region": "CN", "year": 2031}, headers=admin_headers
        ),
        404,
        "sla.schedule_not_bundled",
    )


def test_single_days_are_added_changed_and_removed(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    calendar = client.post(
        "/api/v1/sla/calendars", json={"name": "Desk", "preset": "weekdays"}, headers=admin_headers
    ).json()
    url = f"/api/v1/sla/calendars/{calendar['id']}"
    added = client.post(
        f"{url}/days",
        json={"date": "2026-12-27", "kind": "makeup_workday", "hours": ["10:00-16:00"]},
        headers=admin_headers,
    )
    assert added.status_code == 200, added.text
    assert added.json()["hours"] == ["10:00-16:00"]
    changed = client.post(
        f"{url}/days", json={"date": "2026-12-27", "kind": "holiday"}, headers=admin_headers
    ).json()
    assert (changed["kind"], changed["hours"]) == ("holiday", None)
    assert len(client.get(url, headers=admin_headers).json()["days"]) == 1
    bad = client.post(
        f"{url}/days",
        json={"date": "2026-12-26", "kind": "makeup_workday", "hours": ["16:00-10:00"]},
        headers=admin_headers,
    )
    _problem(bad, 422, "sla.invalid_calendar")
    assert client.delete(f"{url}/days/{changed['id']}", headers=admin_headers).status_code == 204
    _problem(
        client.delete(f"{url}/days/{changed['id']}", headers=admin_headers),
        404,
        "sla.calendar_day_not_found",
    )


def test_a_calendar_in_use_is_not_deleted(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    calendar = client.post(
        "/api/v1/sla/calendars", json={"name": "Desk", "preset": "24x7"}, headers=admin_headers
    ).json()
    client.post(
        "/api/v1/sla/policies",
        json={"name": "Uses it", "calendar_id": calendar["id"]},
        headers=admin_headers,
    )
    _problem(
        client.delete(f"/api/v1/sla/calendars/{calendar['id']}", headers=admin_headers),
        409,
        "sla.calendar_in_use",
    )


# --- policies -----------------------------------------------------------------------------

POLICY = {
    "name": "VIP",
    "conditions": {"customer_tiers": ["vip"], "priorities": ["P1", "P2"]},
    "targets": [
        {"priority": "P1", "kind": "first_response", "minutes": 10},
        {"priority": "P1", "kind": "resolution", "minutes": 60, "business_time": False},
    ],
    "escalations": [
        {"kind": "first_response", "after_breach_minutes": 0, "action": "notify_team_lead"},
        {"kind": "first_response", "at_fraction": 0.5, "action": "notify_assignee"},
    ],
}


def test_policies_are_created_ordered_reordered_and_their_ladders_rewritten(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    everything = client.post(
        "/api/v1/sla/policies", json={"name": "Everything"}, headers=admin_headers
    ).json()
    created = client.post("/api/v1/sla/policies", json=POLICY, headers=admin_headers)
    assert created.status_code == 201, created.text
    vip = created.json()
    assert vip["position"] == 1
    assert vip["conditions"] == {"priorities": ["P1", "P2"], "customer_tiers": ["vip"]}
    assert vip["paused_statuses"] == {
        "first_response": [],
        "next_response": [],
        "resolution": ["pending:customer"],
    }
    assert [(s["position"], s["action"]) for s in vip["escalations"]] == [
        (0, "notify_team_lead"),
        (1, "notify_assignee"),
    ]
    reordered = client.post(
        "/api/v1/sla/policies/reorder",
        json={"policy_ids": [vip["id"], everything["id"]]},
        headers=admin_headers,
    ).json()
    assert [p["name"] for p in reordered] == ["VIP", "Everything"]
    ladder = list(reversed(POLICY["escalations"]))  # type: ignore[call-overload]
    changed = client.patch(
        f"/api/v1/sla/policies/{vip['id']}",
        json={"escalations": ladder, "paused_statuses": {"first_response": ["pending"]}},
        headers=admin_headers,
    ).json()
    assert [(s["position"], s["action"]) for s in changed["escalations"]] == [
        (0, "notify_assignee"),
        (1, "notify_team_lead"),
    ]
    assert changed["paused_statuses"]["first_response"] == ["pending"]
    _problem(
        client.post(
            "/api/v1/sla/policies/reorder",
            json={"policy_ids": [vip["id"]]},
            headers=admin_headers,
        ),
        422,
        "sla.invalid_policy",
    )
    assert (
        client.delete(f"/api/v1/sla/policies/{vip['id']}", headers=admin_headers).status_code == 204
    )
    _problem(
        client.get(f"/api/v1/sla/policies/{vip['id']}", headers=admin_headers),
        404,
        "sla.policy_not_found",
    )


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        pytest.param(
            {"targets": [POLICY["targets"][0], POLICY["targets"][0]]},  # type: ignore[index]
            422,
            "sla.invalid_policy",
            id="duplicate_target_case",
        ),
        pytest.param(
            {"paused_statuses": {"resolution": ["sleeping"]}},
            422,
            "sla.invalid_policy",
            id="unknown_status_case",
        ),
        pytest.param(
            {
                "escalations": [
                    {
                        "kind": "resolution",
                        "at_fraction": 0.5,
                        "after_breach_minutes": 1,
                        "action": "notify_assignee",
                    }
                ]
            },
            422,
            "validation_failed",
            id="two_triggers_case",
        ),
        pytest.param({"calendar_id": 999}, 404, "sla.calendar_not_found", id="no_calendar_case"),
    ],
)
def test_policies_that_cannot_work_are_refused(
    client: TestClient,
    uow: UnitOfWork,
    admin_headers: dict[str, str],
    payload: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = client.post(
        "/api/v1/sla/policies", json={"name": "Broken", **payload}, headers=admin_headers
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert _count(uow, SlaPolicy) == 0


def test_agents_read_policies_but_may_not_change_them(
    client: TestClient,
    uow: UnitOfWork,
    admin_headers: dict[str, str],
    agent_headers: dict[str, str],
) -> None:
    vip = client.post("/api/v1/sla/policies", json=POLICY, headers=admin_headers).json()
    url = f"/api/v1/sla/policies/{vip['id']}"
    assert client.get(url, headers=agent_headers).json()["name"] == "VIP"
    _problem(
        client.patch(url, json={"is_active": False}, headers=agent_headers),
        403,
        "sla.permission_denied",
    )
    _problem(client.delete(url, headers=agent_headers), 403, "sla.permission_denied")
    _problem(
        client.post("/api/v1/sla/policies", json={"name": "x"}, headers=agent_headers),
        403,
        "sla.permission_denied",
    )
    assert client.get(url, headers=agent_headers).json()["is_active"] is True
    assert _count(uow, SlaPolicy) == 1


def test_the_dry_run_shows_which_policy_applies_and_why(
    client: TestClient,
    uow: UnitOfWork,
    admin_headers: dict[str, str],
    agent_headers: dict[str, str],
) -> None:
    vip = client.post("/api/v1/sla/policies", json=POLICY, headers=admin_headers).json()
    rest = client.post(
        "/api/v1/sla/policies",
        json={
            "name": "Everything",
            "targets": [{"priority": "P3", "kind": "resolution", "minutes": 1440}],
        },
        headers=admin_headers,
    ).json()
    customer = make_customer(uow, tier="vip")
    ticket = make_ticket(uow, requester=customer, priority="P1")
    uow.commit()

    by_ticket = client.post(
        "/api/v1/sla/policies/match", json={"ticket_id": ticket.id}, headers=admin_headers
    ).json()
    assert (by_ticket["policy_id"], by_ticket["policy_name"]) == (vip["id"], "VIP")
    assert by_ticket["facts"]["customer_tier"] == "vip"
    assert [(t["kind"], t["minutes"]) for t in by_ticket["targets"]] == [
        ("first_response", 10),
        ("resolution", 60),
    ]
    assert by_ticket["evaluated"][0]["checks"] == [
        {"field": "priorities", "wanted": ["P1", "P2"], "actual": "P1", "holds": True},
        {"field": "customer_tiers", "wanted": ["vip"], "actual": "vip", "holds": True},
    ]
    what_if = client.post(
        "/api/v1/sla/policies/match",
        json={"ticket_id": ticket.id, "priority": "P3"},
        headers=admin_headers,
    ).json()
    assert (what_if["policy_id"], what_if["targets"][0]["minutes"]) == (rest["id"], 1440)
    assert [(e["name"], e["matched"], e["chosen"]) for e in what_if["evaluated"]] == [
        ("VIP", False, False),
        ("Everything", True, True),
    ]
    by_attributes = client.post(
        "/api/v1/sla/policies/match",
        json={"priority": "P4", "type": "fault", "channel": "email"},
        headers=agent_headers,
    ).json()
    assert by_attributes["policy_id"] == rest["id"]
    assert by_attributes["targets"] == []  # the policy has no P4 target
    # A ticket the agent may not read does not exist for them.
    _problem(
        client.post(
            "/api/v1/sla/policies/match", json={"ticket_id": ticket.id}, headers=agent_headers
        ),
        404,
        "ticket.not_found",
    )


# --- clocks, the list, reports ------------------------------------------------------------


def _seed(uow: UnitOfWork) -> None:
    sla.seed_default_sla(uow, actor=SYSTEM)
    uow.commit()


def test_the_clocks_of_a_ticket(
    client: TestClient, uow: UnitOfWork, clock: FrozenClock, admin_headers: dict[str, str]
) -> None:
    _seed(uow)
    ticket = make_ticket(uow, requester=make_customer(uow), priority="P1")
    uow.commit()
    clock.advance(timedelta(minutes=12))

    body = client.get(f"/api/v1/tickets/{ticket.id}/sla", headers=admin_headers).json()
    assert (body["due_at"], body["state"]) == ("2026-11-25T02:15:00Z", "warning")
    first, resolution = body["clocks"]
    assert first == {
        "kind": "first_response",
        "cycle": 1,
        "policy_id": first["policy_id"],
        "policy_name": "Default: P1 15 min / 2 h, others 24 h",
        "target_minutes": 15,
        "business_time": True,
        "started_at": "2026-11-25T02:00:00Z",
        "due_at": "2026-11-25T02:15:00Z",
        "warning_at": "2026-11-25T02:11:15Z",
        "elapsed_seconds": 720.0,
        "paused_seconds": 0.0,
        "remaining_seconds": 180.0,
        "state": "warning",
        "met_at": None,
        "breached_at": None,
        "next_check_at": "2026-11-25T02:11:15Z",
        "escalations": [],
    }
    assert (resolution["kind"], resolution["due_at"], resolution["state"]) == (
        "resolution",
        "2026-11-25T04:00:00Z",
        "running",
    )
    listed = client.get(f"/api/v1/tickets/{ticket.id}", headers=admin_headers).json()
    # The stored summary was written when the ticket changed (at 02:00, still running).
    assert (listed["sla_due_at"], listed["sla_state"]) == ("2026-11-25T02:15:00Z", "running")


def test_customers_do_not_see_clocks(
    client: TestClient, uow: UnitOfWork, customer_headers: dict[str, str]
) -> None:
    _seed(uow)
    reader = accounts.find_customer_by_identity(uow, IdentityKind.email, "reader@example.org")
    assert reader is not None
    own = make_ticket(uow, requester=reader)
    other = make_ticket(uow, requester=make_customer(uow))
    uow.commit()
    _problem(
        client.get(f"/api/v1/tickets/{own.id}/sla", headers=customer_headers),
        403,
        "sla.read_denied",
    )
    # A ticket the customer may not read does not exist for them.
    _problem(
        client.get(f"/api/v1/tickets/{other.id}/sla", headers=customer_headers),
        404,
        "ticket.not_found",
    )


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


def test_the_list_sorts_by_due_filters_by_state_in_a_fixed_number_of_statements(
    client: TestClient,
    uow: UnitOfWork,
    engine: Engine,
    clock: FrozenClock,
    admin_headers: dict[str, str],
) -> None:
    _seed(uow)
    customer = make_customer(uow)
    p3 = make_ticket(uow, requester=customer, priority="P3")
    clock.advance(timedelta(minutes=1))
    late = make_ticket(uow, requester=customer, priority="P1")
    clock.advance(timedelta(minutes=1))
    later = make_ticket(uow, requester=customer, priority="P1")
    uow.commit()
    clock.set(T0 + timedelta(minutes=16, seconds=30))  # the first P1 is past due, the second not
    sla.scan_due(uow)
    uow.commit()

    client.get("/api/v1/tickets", headers=admin_headers)
    with count_statements(engine) as statements:
        response = client.get(
            "/api/v1/tickets", params={"sort": "sla_due_at"}, headers=admin_headers
        )
    assert [t["id"] for t in response.json()["items"]] == [late.id, later.id, p3.id]
    assert [t["sla_state"] for t in response.json()["items"]] == ["breached", "warning", "running"]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3, selects  # token with agent, their teams, the page: none per ticket
    breached = client.get(
        "/api/v1/tickets", params={"sla_state": "breached"}, headers=admin_headers
    ).json()
    assert [t["id"] for t in breached["items"]] == [late.id]
    _problem(
        client.get("/api/v1/tickets", params={"sla_state": "late"}, headers=admin_headers),
        422,
        "validation_failed",
    )


def test_attainment_counts_met_and_breached_clocks_exactly(
    client: TestClient,
    uow: UnitOfWork,
    clock: FrozenClock,
    admin_headers: dict[str, str],
    agent_headers: dict[str, str],
) -> None:
    _seed(uow)
    responder = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
    team = make_team(uow, name="Network")
    customer = make_customer(uow)
    clock.set(T0 - timedelta(days=2))
    make_ticket(uow, requester=customer, priority="P1")  # before the range: not counted
    clock.set(T0)
    on_time = make_ticket(uow, requester=customer, priority="P1", team_id=team.id)
    make_ticket(uow, requester=customer, priority="P1", team_id=team.id)  # never answered
    quick = make_ticket(uow, requester=customer, priority="P3")
    make_ticket(uow, requester=customer, priority="P2")  # still running
    uow.commit()
    clock.advance(timedelta(minutes=10))
    tickets.add_message(
        uow, ticket_id=on_time.id, data=MessageCreate(body="Hi"), actor=responder, via="test"
    )
    uow.commit()
    clock.advance(timedelta(minutes=20))
    for ticket_id in (on_time.id, quick.id):
        current = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        tickets.transition(
            uow,
            ticket_id=ticket_id,
            target=TicketStatus.resolved,
            pending_reason=None,
            expected_version=current.version,
            actor=SYSTEM,
            via="test",
        )
    uow.commit()
    clock.set(T0 + timedelta(hours=3))  # the unanswered P1 breached both its targets
    sla.scan_due(uow)
    uow.commit()

    def report(group_by: str) -> dict[str, Any]:
        response = client.get(
            "/api/v1/sla/attainment",
            params={
                "from": "2026-11-25T00:00:00Z",
                "to": "2026-11-26T00:00:00Z",
                "group_by": group_by,
            },
            headers=agent_headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (g["key"], g["label"], g["met"], g["breached"], g["total"], g["attainment"])
            for g in body["groups"]
        ]

    by_target = report("target")
    assert rows(by_target) == [
        ("first_response", None, 1, 1, 2, 0.5),
        ("resolution", None, 2, 1, 4, 0.6667),
    ]
    assert (by_target["met"], by_target["breached"], by_target["total"]) == (3, 2, 6)
    assert by_target["attainment"] == 0.6
    assert (by_target["from"], by_target["to"]) == ("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")
    assert rows(report("priority")) == [
        ("P1", None, 2, 2, 4, 0.5),
        ("P2", None, 0, 0, 1, None),
        ("P3", None, 1, 0, 1, 1.0),
    ]
    assert rows(report("team")) == [
        (team.id, "Network", 2, 2, 4, 0.5),
        (None, None, 1, 0, 2, 1.0),
    ]
    policy = rows(report("policy"))
    assert [(r[1], r[2], r[3], r[4]) for r in policy] == [
        ("Default: P1 15 min / 2 h, others 24 h", 3, 2, 6)
    ]
    backwards = client.get(
        "/api/v1/sla/attainment",
        params={"from": "2026-11-26T00:00:00Z", "to": "2026-11-25T00:00:00Z"},
        headers=agent_headers,
    )
    _problem(backwards, 422, "sla.invalid_range")
    naive = client.get(
        "/api/v1/sla/attainment",
        params={"from": "2026-11-25T00:00:00", "to": "2026-11-26T00:00:00Z"},
        headers=agent_headers,
    )
    _problem(naive, 422, "validation_failed")
