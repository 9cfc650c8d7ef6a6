"""Admin pages for routing: rules, team strategies, settings and the classifier."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.routing import service as routing
from closeloop.routing.schemas import DryRunRequest, DryRunTicket
from tests.builders import make_team
from tests.web.admin_world import admin, admin_client, assert_admin_only, refused_csrf
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client"]

VPN = {
    "name": "VPN",
    "match": "all",
    "is_active": "1",
    "cond_field_0": "subject",
    "cond_operator_0": "contains",
    "cond_value_0": "vpn, 远程连接",
    "priority": "P2",
    "add_tags": "vpn",
}


def _rules(uow: UnitOfWork) -> list[Any]:
    uow.session.expire_all()
    return list(routing.list_rules(uow, actor=SYSTEM))


def test_only_admins_see_the_routing_pages(
    admin_client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    admin_client.post("/admin/routing/rules", data=VPN)
    (rule,) = _rules(uow)
    paths = ["/admin/routing", "/admin/routing/rules/new", f"/admin/routing/rules/{rule.id}"]
    for path in paths:
        assert admin_client.get(path).status_code == 200, path
    assert_admin_only(admin_client, uow, signed_in, paths)


def test_an_admin_creates_a_rule_that_then_routes(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    team = make_team(uow, name="Network")
    uow.commit()
    answer = admin_client.post(
        "/admin/routing/rules", data={**VPN, "team_id": str(team.id)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:3000]
    (rule,) = _rules(uow)
    assert rule.conditions == [
        {"field": "subject", "operator": "contains", "value": ["vpn", "远程连接"], "negate": False}
    ]
    assert rule.actions["team_id"] == team.id
    page = admin_client.get(answer.headers["location"]).text
    assert 'value="vpn, 远程连接"' in page
    decision = routing.dry_run(
        uow, data=DryRunRequest(ticket=DryRunTicket(subject="远程连接断开")), actor=SYSTEM
    )
    assert decision.rule_name == "VPN"
    assert decision.actions is not None


def test_a_refused_rule_keeps_the_values_and_marks_the_row(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    answer = admin_client.post(
        "/admin/routing/rules",
        data={**VPN, "name": "Kept rule", "cond_operator_0": "matches", "cond_value_0": "(a+)+$"},
    )
    assert answer.status_code == 422
    assert 'value="Kept rule"' in answer.text
    assert 'value="(a+)+$"' in answer.text
    marked = 'name="cond_field_0" value="subject" list="rule-fields" aria-label="Field"'
    assert marked + ' aria-invalid="true"' in answer.text
    assert _rules(uow) == []
    refused_csrf(admin_client, "/admin/routing/rules", VPN)
    assert _rules(uow) == []


def test_rules_are_edited_reordered_and_switched(admin_client: TestClient, uow: UnitOfWork) -> None:
    admin_client.post("/admin/routing/rules", data=VPN)
    admin_client.post(
        "/admin/routing/rules", data={**VPN, "name": "Printers", "cond_value_0": "printer"}
    )
    vpn, printers = _rules(uow)
    admin_client.post(f"/admin/routing/rules/{printers.id}/move", data={"direction": "up"})
    assert [r.name for r in _rules(uow)] == ["Printers", "VPN"]
    admin_client.post(f"/admin/routing/rules/{vpn.id}/toggle")
    assert [r.is_active for r in _rules(uow)] == [True, False]
    answer = admin_client.post(
        f"/admin/routing/rules/{vpn.id}",
        data={**VPN, "name": "VPN and remote"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert [r.name for r in _rules(uow)] == ["Printers", "VPN and remote"]


def test_team_strategy_settings_and_train_now(admin_client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="Desk")
    uow.commit()
    answer = admin_client.post(
        f"/admin/routing/teams/{team.id}", data={"strategy": "least_load"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert routing.team_routing(uow, team_id=team.id, actor=SYSTEM).strategy == "least_load"
    assert (
        admin_client.post(f"/admin/routing/teams/{team.id}", data={"strategy": "dice"}).status_code
        == 422
    )
    answer = admin_client.post(
        "/admin/routing/settings",
        data={
            "ping_pong_threshold": "4",
            "escalation_team_id": str(team.id),
            "move_ping_pong": "1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    settings = routing.read_settings(uow, actor=SYSTEM)
    assert (settings.ping_pong_threshold, settings.escalation_team_id, settings.move_ping_pong) == (
        4,
        team.id,
        True,
    )
    page = admin_client.get("/admin/routing").text
    assert "No model yet" in page
    admin_client.post("/admin/routing/classifier/train", data={"field": "team"})
    jobs = uow.session.scalars(select(Job).where(Job.name == "routing.retrain_field")).all()
    assert [j.payload for j in jobs] == [{"field": "team"}]
