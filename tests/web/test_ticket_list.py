"""The ticket views and the ticket list: who sees which tickets, counts, filters, sorting,
keyset pages, escaping and the number of SQL statements a page costs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.i18n import translate
from closeloop.web.agent import nav
from tests.builders import make_agent, make_customer, make_team, make_ticket
from tests.web.conftest import count_statements, selects
from tests.web.list_world import (
    World,
    build_world,
    nav_counts,
    row_ids,
    sign_in_agent,
    sign_in_customer,
)

VIEWS = ("mine", "unassigned", "all_open", "sla_risk", "overdue", "pending", "recently_resolved")
OPEN_ALL = ("a_new", "a_mine", "b_new", "a_pending", "a_warning", "a_breached")
# What each role finds in each view; None: the view does not exist for them (404).
EXPECTED: dict[str, dict[str, tuple[str, ...] | None]] = {
    "agent": {
        "mine": ("a_mine", "a_pending"),
        "unassigned": ("a_new", "a_breached"),
        "all_open": None,
        "sla_risk": ("a_warning",),
        "overdue": ("a_breached",),
        "pending": ("a_pending",),
        "recently_resolved": ("a_resolved",),
    },
    "lead": {
        "mine": ("a_warning",),
        "unassigned": ("a_new", "a_breached"),
        "all_open": None,
        "sla_risk": ("a_warning",),
        "overdue": ("a_breached",),
        "pending": ("a_pending",),
        "recently_resolved": ("a_resolved",),
    },
    "other": {
        "mine": (),
        "unassigned": ("b_new",),
        "all_open": None,
        "sla_risk": (),
        "overdue": (),
        "pending": (),
        "recently_resolved": ("b_closed",),
    },
    "supervisor": {
        "mine": (),
        "unassigned": (),
        "all_open": OPEN_ALL,
        "sla_risk": ("a_warning",),
        "overdue": ("a_breached",),
        "pending": ("a_pending",),
        "recently_resolved": ("a_resolved", "b_closed"),
    },
    "admin": {
        "mine": (),
        "unassigned": (),
        "all_open": OPEN_ALL,
        "sla_risk": ("a_warning",),
        "overdue": ("a_breached",),
        "pending": ("a_pending",),
        "recently_resolved": ("a_resolved", "b_closed"),
    },
}


@pytest.fixture
def world(uow: UnitOfWork, clock: FrozenClock) -> World:
    return build_world(uow, clock)


def _agent(world: World, role: str) -> Any:
    return getattr(world, role)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_view_lists_what_the_role_may_see(
    client: TestClient, uow: UnitOfWork, world: World, role: str
) -> None:
    sign_in_agent(client, uow, _agent(world, role))
    for view, expected in EXPECTED[role].items():
        response = client.get(f"/agent/views/{view}")
        if expected is None:
            assert response.status_code == 404, view
            continue
        assert response.status_code == 200, (view, response.text[:500])
        assert set(row_ids(response.text)) == world.ids(*expected), view


@pytest.mark.parametrize("role", list(EXPECTED))
def test_navigation_counts_match_the_views(
    client: TestClient, uow: UnitOfWork, world: World, role: str
) -> None:
    sign_in_agent(client, uow, _agent(world, role))
    counts = nav_counts(client.get("/agent/views/mine").text)
    expected = {
        view: str(len(found)) for view, found in EXPECTED[role].items() if found is not None
    }
    assert counts == expected
    assert client.get("/agent/nav/counts").json() == expected


def test_customers_and_visitors_never_see_the_workspace(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    assert client.get("/agent/views/mine", follow_redirects=False).status_code == 303
    assert (
        client.get("/agent/tickets", follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=")
    )
    sign_in_customer(client, uow, world.customer)
    for path in (
        "/agent/views/mine",
        "/agent/views/all_open",
        "/agent/tickets",
        "/agent/nav/counts",
    ):
        assert client.get(path).status_code == 404, path


def test_unknown_view_is_not_found(client: TestClient, uow: UnitOfWork, world: World) -> None:
    sign_in_agent(client, uow, world.agent)
    assert client.get("/agent/views/everything").status_code == 404
    assert client.get("/agent/views/999999").status_code == 404


def test_workspace_home_opens_my_tickets(client: TestClient, uow: UnitOfWork, world: World) -> None:
    sign_in_agent(client, uow, world.agent)
    response = client.get("/agent", follow_redirects=False)
    assert response.headers["location"] == "/agent/views/mine"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "pending"}, ("a_pending",)),
        ({"status": ["new", "pending"]}, ("a_new", "b_new", "a_pending", "a_breached")),
        ({"priority": "P1"}, ("a_mine",)),
        ({"type": "fault"}, ("b_new",)),
        ({"team": "mine"}, ()),  # the supervisor is in no team
        ({"assignee": "none", "status": ["new", "open"]}, ("a_new", "b_new", "a_breached")),
        ({"tag": "VPN"}, ("a_breached",)),
        ({"q": "a_warning"}, ("a_warning",)),
        ({"sla": "breached"}, ("a_breached",)),
        ({"resolved": "7"}, ("a_resolved", "b_closed")),
    ],
    ids=[
        "status",
        "statuses",
        "priority",
        "type",
        "my-teams",
        "unassigned",
        "tag",
        "text",
        "sla",
        "resolved",
    ],
)
def test_filters(
    client: TestClient,
    uow: UnitOfWork,
    world: World,
    params: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    sign_in_agent(client, uow, world.supervisor)
    response = client.get("/agent/tickets", params={"f": "1", **params})
    assert response.status_code == 200
    assert set(row_ids(response.text)) == world.ids(*expected)


def test_filters_by_team_and_assignee_ids(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    sign_in_agent(client, uow, world.supervisor)
    by_team = client.get("/agent/tickets", params={"team": world.team_b.id})
    assert set(row_ids(by_team.text)) == world.ids("b_new", "b_closed")
    by_assignee = client.get("/agent/tickets", params={"assignee": [world.lead.id, "none"]})
    assert set(row_ids(by_assignee.text)) == world.ids("a_warning", "a_new", "b_new", "a_breached")


def test_a_filter_on_a_view_replaces_its_preset(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    sign_in_agent(client, uow, world.agent)
    response = client.get(
        "/agent/views/mine", params={"f": "1", "assignee": "me", "status": "pending"}
    )
    assert row_ids(response.text) == [world.tickets["a_pending"].id]
    reset = {translate("Reset", locale) for locale in ("en", "zh_CN")}
    assert any(f'href="/agent/views/mine">{label}</a>' in response.text for label in reset)


def test_sorting(client: TestClient, uow: UnitOfWork, world: World) -> None:
    sign_in_agent(client, uow, world.supervisor)
    open_now = {"f": "1", "status": ["new", "open", "in_progress", "pending"]}
    by_priority = row_ids(
        client.get("/agent/tickets", params={**open_now, "sort": "priority"}).text
    )
    assert by_priority[0] == world.tickets["a_mine"].id  # the only P1
    by_due = row_ids(client.get("/agent/tickets", params={**open_now, "sort": "sla_due_at"}).text)
    # Breached first (an hour ago), then the warning (20 min), then the running clock (3 h);
    # tickets without a clock last.
    assert by_due[:3] == [
        world.tickets["a_breached"].id,
        world.tickets["a_warning"].id,
        world.tickets["a_mine"].id,
    ]
    newest = row_ids(client.get("/agent/tickets", params={**open_now, "sort": "-created_at"}).text)
    oldest = row_ids(client.get("/agent/tickets", params={**open_now, "sort": "created_at"}).text)
    assert newest == list(reversed(oldest))
    assert newest == sorted(newest, reverse=True)


def test_keyset_pages(client: TestClient, uow: UnitOfWork) -> None:
    supervisor = make_agent(uow, role=Role.supervisor)
    customer = make_customer(uow)
    made = [make_ticket(uow, requester=customer, subject=f"Ticket {n}").id for n in range(62)]
    uow.commit()
    sign_in_agent(client, uow, supervisor)
    first = client.get("/agent/tickets", params={"sort": "-created_at"})
    first_rows = row_ids(first.text)
    assert first_rows == sorted(made, reverse=True)[:50]
    assert 'id="more-row"' in first.text
    next_url = first.text.split('hx-get="', 2)[-1].split('"', 1)[0].replace("&amp;", "&")
    assert "cursor=" in next_url
    assert "fragment=rows" in next_url
    second = client.get(next_url, headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert "<html" not in second.text  # a fragment: the rows only
    assert row_ids(second.text) == sorted(made, reverse=True)[50:]
    assert 'id="more-row"' not in second.text


def test_subject_and_names_are_escaped(client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="<i>team</i>")
    agent = make_agent(uow, teams=[team])
    customer = make_customer(uow, name="<b>Eve</b>")
    make_ticket(uow, requester=customer, subject="<script>alert(1)</script>", team_id=team.id)
    uow.commit()
    sign_in_agent(client, uow, agent)
    html = client.get("/agent/views/unassigned").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<b>Eve</b>" not in html
    assert "&lt;i&gt;team&lt;/i&gt;" in html
    assert "<i>team</i>" not in html


def test_counts_are_capped(
    client: TestClient, uow: UnitOfWork, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nav, "COUNT_CAP", 3)
    monkeypatch.setattr(nav, "AGENT_COUNT_CAP", 1)
    sign_in_agent(client, uow, world.supervisor)
    counts = nav_counts(client.get("/agent/views/all_open").text)
    assert counts["all_open"] == "3+"
    assert counts["pending"] == "1"
    sign_in_agent(client, uow, world.agent)
    counts = nav_counts(client.get("/agent/views/mine").text)
    assert counts["mine"] == "1+"
    assert counts["sla_risk"] == "1"


@pytest.mark.parametrize("path", ["/agent/views/all_open", "/agent/tickets?q=printer"])
def test_the_list_page_is_a_fixed_number_of_statements(
    client: TestClient, uow: UnitOfWork, engine: Engine, path: str
) -> None:
    """50 tickets of 50 requesters, 5 teams and 10 assignees: no query per row."""
    teams = [make_team(uow) for _ in range(5)]
    agents = [make_agent(uow, teams=[teams[n % 5]]) for n in range(10)]
    supervisor = make_agent(uow, role=Role.supervisor)
    for n in range(55):
        make_ticket(
            uow,
            requester=make_customer(uow),
            subject=f"printer {n}",
            team_id=teams[n % 5].id,
            assignee_id=agents[n % 10].id if n % 3 else None,
            tags=["a", "b"],
        )
    sign_in_agent(client, uow, supervisor)
    client.get(path)  # the session's first use stamps it once
    with count_statements(engine) as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert len(row_ids(response.text)) == 50
    found = selects(statements)
    # The visitor (session, agent, their teams); the page, its requesters, the teams, the
    # agents; the navigation (saved views, every count in one statement): none per ticket.
    assert len(found) == 9, "\n\n".join(found)


def test_filters_never_widen_what_an_agent_sees(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    """Filters on somebody else's tickets or another team list nothing the agent may not read,
    while filters on their own tickets or teams skip the visibility test safely."""
    sign_in_agent(client, uow, world.agent)
    for params in (
        {"assignee": world.other.id},
        {"team": world.team_b.id},
        {"team": [world.team_a.id, world.team_b.id], "status": "new"},
    ):
        html = client.get("/agent/tickets", params=params).text
        assert not set(row_ids(html)) & world.ids("b_new", "b_closed"), params
    own = client.get("/agent/tickets", params={"assignee": "me"}).text
    assert set(row_ids(own)) == world.ids("a_mine", "a_pending", "a_resolved", "a_old")
    team = client.get("/agent/tickets", params={"team": world.team_a.id, "status": "new"}).text
    assert set(row_ids(team)) == world.ids("a_new", "a_breached")


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJpZCI6ICJ4In0"])
def test_a_broken_cursor_shows_the_first_page(
    client: TestClient, uow: UnitOfWork, world: World, cursor: str
) -> None:
    sign_in_agent(client, uow, world.supervisor)
    response = client.get("/agent/views/all_open", params={"cursor": cursor})
    assert response.status_code == 200
    assert set(row_ids(response.text)) == world.ids(*OPEN_ALL)
