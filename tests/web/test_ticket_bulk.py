"""Bulk actions on the ticket list: each ticket changes on its own, skipped ones are reported,
and nothing changes without the CSRF token."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets.models import Ticket, TicketLink
from tests.web.list_world import World, build_world, sign_in_agent

FLASH_COOKIE = "closeloop_flash"


@pytest.fixture
def world(uow: UnitOfWork, clock: FrozenClock) -> World:
    return build_world(uow, clock)


def _fresh(uow: UnitOfWork, ticket_id: int) -> Ticket:
    uow.session.expire_all()
    found = uow.session.get(Ticket, ticket_id)
    assert found is not None
    return found


def _post(client: TestClient, csrf: str, data: dict[str, object], *, htmx: bool = False) -> str:
    """Post the bulk form; the message the agent reads next."""
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(
        "/agent/tickets/bulk",
        data={"csrf_token": csrf, "back": "/agent/views/all_open", **data},
        headers=headers,
        follow_redirects=False,
    )
    if htmx:
        assert response.status_code == 200, response.text
        return str(response.text)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/agent/views/all_open"
    return unquote(str(response.cookies.get(FLASH_COOKIE) or ""))


def test_status_change_applies_the_legal_ones_and_reports_the_rest(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.supervisor)
    chosen = ["a_new", "a_mine", "a_warning", "b_closed"]
    message = _post(
        client,
        csrf,
        {"action": "status", "status": "open", "ticket_id": [world.tickets[n].id for n in chosen]},
    )
    closed = format_ticket_number(world.tickets["b_closed"].id)
    assert (
        message == f"2 updated, 2 skipped: {format_ticket_number(world.tickets['a_mine'].id)} "
        f"is already Open; {closed} cannot go from Closed to Open"
    )
    assert _fresh(uow, world.tickets["a_new"].id).status == "open"
    assert _fresh(uow, world.tickets["a_warning"].id).status == "open"
    assert _fresh(uow, world.tickets["b_closed"].id).status == "closed"


def test_assign_to_me_to_an_agent_and_to_a_team(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.lead)
    a_new, a_breached = world.tickets["a_new"].id, world.tickets["a_breached"].id
    assert _post(client, csrf, {"action": "assign_me", "ticket_id": [a_new]}) == "1 updated"
    assert _fresh(uow, a_new).assignee_id == world.lead.id
    # A lead assigns within the team they lead.
    message = _post(
        client,
        csrf,
        {"action": "assign_agent", "agent_id": world.agent.id, "ticket_id": [a_new, a_breached]},
    )
    assert message == "2 updated"
    assert _fresh(uow, a_breached).assignee_id == world.agent.id
    message = _post(
        client, csrf, {"action": "assign_team", "team_id": world.team_b.id, "ticket_id": [a_new]}
    )
    assert message == "1 updated"
    moved = _fresh(uow, a_new)
    assert (moved.team_id, moved.assignee_id) == (world.team_b.id, None)


def test_an_agent_may_not_assign_others_and_is_told_per_ticket(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    a_new = world.tickets["a_new"].id
    message = _post(
        client, csrf, {"action": "assign_agent", "agent_id": world.lead.id, "ticket_id": [a_new]}
    )
    assert message.startswith(f"0 updated, 1 skipped: {format_ticket_number(a_new)}: ")
    assert _fresh(uow, a_new).assignee_id is None


def test_a_rows_assign_button_takes_only_that_ticket(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    a_new, a_breached = world.tickets["a_new"].id, world.tickets["a_breached"].id
    message = _post(client, csrf, {"assign_me": str(a_new), "ticket_id": [a_breached]})
    assert message == "1 updated"
    assert _fresh(uow, a_new).assignee_id == world.agent.id
    assert _fresh(uow, a_breached).assignee_id is None


def test_add_tags(client: TestClient, uow: UnitOfWork, world: World) -> None:
    csrf = sign_in_agent(client, uow, world.supervisor)
    a_breached, a_new = world.tickets["a_breached"].id, world.tickets["a_new"].id
    message = _post(
        client, csrf, {"action": "tags", "tags": "Printer, vpn", "ticket_id": [a_breached, a_new]}
    )
    assert message == "2 updated"
    assert _fresh(uow, a_breached).tags == ["vpn", "printer"]
    assert _fresh(uow, a_new).tags == ["printer", "vpn"]


def test_merge_into_a_chosen_survivor(client: TestClient, uow: UnitOfWork, world: World) -> None:
    csrf = sign_in_agent(client, uow, world.supervisor)
    survivor, source, closed = (world.tickets[n].id for n in ("a_new", "a_breached", "b_closed"))
    message = _post(
        client,
        csrf,
        {
            "action": "merge",
            "survivor": format_ticket_number(survivor),
            "ticket_id": [survivor, source, closed],
        },
    )
    assert message.startswith(f"1 updated, 1 skipped: {format_ticket_number(closed)}: ")
    merged = _fresh(uow, source)
    assert (merged.status, merged.merged_into_id) == ("closed", survivor)
    links = uow.session.scalars(select(TicketLink).where(TicketLink.kind == "merged_into")).all()
    assert [(link.source_ticket_id, link.target_ticket_id) for link in links] == [
        (source, survivor)
    ]


def test_htmx_answers_with_the_message_and_asks_the_list_to_refresh(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.supervisor)
    response = client.post(
        "/agent/tickets/bulk",
        data={"action": "status", "status": "pending", "ticket_id": [world.tickets["a_new"].id]},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "ticket-list-changed"
    assert response.headers["HX-Retarget"] == "#flash"
    assert "1 updated" in response.text


def test_nothing_selected_or_no_action_changes_nothing(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.supervisor)
    assert (
        _post(client, csrf, {"action": "status", "status": "open"}) == "Select at least one ticket."
    )
    assert _post(client, csrf, {"action": "", "ticket_id": [world.tickets["a_new"].id]}) == (
        "Choose what to do with the selected tickets."
    )
    assert _fresh(uow, world.tickets["a_new"].id).status == "new"


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_bulk_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, uow: UnitOfWork, world: World, token: str | None
) -> None:
    sign_in_agent(client, uow, world.supervisor)
    ids = [world.tickets[n].id for n in ("a_new", "a_mine")]
    versions = [_fresh(uow, i).version for i in ids]
    data: dict[str, object] = {"action": "status", "status": "resolved", "ticket_id": ids}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/agent/tickets/bulk", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert [_fresh(uow, i).status for i in ids] == ["new", "open"]
    assert [_fresh(uow, i).version for i in ids] == versions
