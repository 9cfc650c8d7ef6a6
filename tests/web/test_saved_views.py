"""Saved views from the ticket list: save, share with a team, who sees and who may change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.saved_views.models import SavedView
from tests.web.list_world import World, build_world, nav_counts, row_ids, sign_in_agent


@pytest.fixture
def world(uow: UnitOfWork, clock: FrozenClock) -> World:
    return build_world(uow, clock)


def _save(
    client: TestClient, csrf: str, name: str, *, team_id: int | None = None, **filters: object
) -> int:
    data: dict[str, object] = {
        "csrf_token": csrf,
        "name": name,
        "team_id": "" if team_id is None else str(team_id),
        "f": "1",
        "sort": "priority",
        "col": ["number", "subject", "priority", "tags"],
        **filters,
    }
    response = client.post("/agent/saved-views", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/agent/views/")
    return int(location.rsplit("/", 1)[1])


def _views(uow: UnitOfWork) -> list[SavedView]:
    uow.session.expire_all()
    return list(uow.session.scalars(select(SavedView).order_by(SavedView.id)))


def test_save_this_view_keeps_filters_columns_and_sort(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Team A new", status=["new", "bogus"], team="mine")
    (stored,) = _views(uow)
    assert (stored.owner_id, stored.team_id, stored.name) == (world.agent.id, None, "Team A new")
    assert stored.filters == {"statuses": ["new"], "my_teams": True}
    assert stored.columns == ["number", "subject", "priority", "tags"]
    assert stored.sort == "priority"
    page = client.get(f"/agent/views/{view_id}")
    assert page.status_code == 200
    assert set(row_ids(page.text)) == world.ids("a_new", "a_breached")
    assert 'class="col-tags"' in page.text
    assert 'class="col-requester"' not in page.text
    assert nav_counts(page.text)[str(view_id)] == "2"


def test_a_private_view_is_the_owners_alone(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Mine only", priority="P1")
    sign_in_agent(client, uow, world.lead)
    assert client.get(f"/agent/views/{view_id}").status_code == 404
    assert str(view_id) not in nav_counts(client.get("/agent/views/mine").text)


def test_a_shared_view_is_seen_by_the_team_and_changed_only_by_its_owner(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Urgent in A", team_id=world.team_a.id, priority="P1")
    # The lead, in team A, opens it; what "me" means would be the lead, not the owner.
    lead_csrf = sign_in_agent(client, uow, world.lead)
    page = client.get(f"/agent/views/{view_id}")
    assert page.status_code == 200
    assert row_ids(page.text) == [world.tickets["a_mine"].id]
    assert f"/agent/saved-views/{view_id}/delete" not in page.text
    refused = client.post(
        f"/agent/saved-views/{view_id}",
        data={"csrf_token": lead_csrf, "name": "Taken over"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    deleted = client.post(
        f"/agent/saved-views/{view_id}/delete",
        data={"csrf_token": lead_csrf},
        follow_redirects=False,
    )
    assert deleted.status_code == 403
    assert [v.name for v in _views(uow)] == ["Urgent in A"]
    # Team B does not see it at all.
    sign_in_agent(client, uow, world.other)
    assert client.get(f"/agent/views/{view_id}").status_code == 404


def test_the_owner_renames_shares_and_updates_the_filters(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Draft", priority="P1")
    response = client.post(
        f"/agent/saved-views/{view_id}",
        data={
            "csrf_token": csrf,
            "name": "Pending of A",
            "team_id": str(world.team_a.id),
            "replace_filters": "1",
            "f": "1",
            "status": "pending",
            "sort": "-updated_at",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    (stored,) = _views(uow)
    assert (stored.name, stored.team_id, stored.filters, stored.sort) == (
        "Pending of A",
        world.team_a.id,
        {"statuses": ["pending"]},
        "-updated_at",
    )
    assert stored.columns == ["number", "subject", "priority", "tags"]  # not sent: kept


def test_sharing_with_a_team_one_is_not_in_is_refused(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    response = client.post(
        "/agent/saved-views",
        data={"csrf_token": csrf, "name": "Spy on B", "team_id": str(world.team_b.id)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _views(uow) == []


def test_an_admin_deletes_any_view(client: TestClient, uow: UnitOfWork, world: World) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Old view", team_id=world.team_a.id)
    admin_csrf = sign_in_agent(client, uow, world.admin)
    response = client.post(
        f"/agent/saved-views/{view_id}/delete",
        data={"csrf_token": admin_csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _views(uow) == []


def test_the_owner_deletes_their_view(client: TestClient, uow: UnitOfWork, world: World) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    view_id = _save(client, csrf, "Short lived")
    response = client.post(
        f"/agent/saved-views/{view_id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/views/mine"
    assert _views(uow) == []
    assert client.get(f"/agent/views/{view_id}").status_code == 404


def test_saving_without_the_csrf_token_saves_nothing(
    client: TestClient, uow: UnitOfWork, world: World
) -> None:
    sign_in_agent(client, uow, world.agent)
    response = client.post("/agent/saved-views", data={"name": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert uow.session.scalar(select(func.count()).select_from(SavedView)) == 0


def test_a_view_needs_a_name(client: TestClient, uow: UnitOfWork, world: World) -> None:
    csrf = sign_in_agent(client, uow, world.agent)
    response = client.post(
        "/agent/saved-views", data={"csrf_token": csrf, "name": "  "}, follow_redirects=False
    )
    assert response.status_code == 422
    assert _views(uow) == []
