"""Admin pages for SLA: calendars, holidays, policies, the ladder and the dry run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.kit.ids import format_ticket_number
from closeloop.sla import service as sla
from closeloop.sla.schemas import CalendarCreate, PolicyCreate, TargetIn
from closeloop.tickets.domain import Priority
from tests.builders import make_customer, make_ticket
from tests.web.admin_world import admin, admin_client, assert_admin_only, refused_csrf
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client"]


def _desk(uow: UnitOfWork) -> tuple[int, int]:
    calendar = sla.create_calendar(
        uow,
        data=CalendarCreate(
            name="Round the clock", preset="24x7", time_zone="UTC", is_default=True
        ),
        actor=SYSTEM,
        via="test",
    )
    policy = sla.create_policy(
        uow,
        data=PolicyCreate(
            name="Standard",
            calendar_id=calendar.id,
            targets=[TargetIn(priority=Priority.P3, kind="resolution", minutes=60)],
        ),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    return calendar.id, policy.id


def test_only_admins_see_the_sla_pages(
    admin_client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    calendar_id, policy_id = _desk(uow)
    paths = [
        "/admin/sla",
        f"/admin/sla/calendars/{calendar_id}",
        f"/admin/sla/policies/{policy_id}",
    ]
    for path in paths:
        assert admin_client.get(path).status_code == 200, path
    assert_admin_only(admin_client, uow, signed_in, paths)


def test_editing_a_policy_target_moves_a_tickets_due_time(
    admin_client: TestClient, uow: UnitOfWork, make_uow: Callable[[], UnitOfWork]
) -> None:
    _calendar_id, policy_id = _desk(uow)
    ticket = make_ticket(uow, requester=make_customer(uow), priority="P3")
    uow.commit()
    sla.recompute_tickets(uow)
    uow.commit()
    created = ticket.created_at
    before = sla.ticket_sla(uow, ticket_id=ticket.id, actor=SYSTEM).due_at
    assert before is not None
    assert (before - created).total_seconds() == 3600
    page = admin_client.get(f"/admin/sla/policies/{policy_id}").text
    assert 'name="target_P3_resolution" value="60"' in page
    answer = admin_client.post(
        f"/admin/sla/policies/{policy_id}",
        data={
            "name": "Standard",
            "is_active": "1",
            "target_P3_resolution": "120",
            "business_P3_resolution": "1",
            "warning_fractions": "0.75",
            "paused_resolution": "pending:customer",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:3000]
    with make_uow() as fresh:  # the background job the change asked for
        sla.recompute_tickets(fresh)
        fresh.commit()
        after = sla.ticket_sla(fresh, ticket_id=ticket.id, actor=SYSTEM).due_at
    assert after is not None
    assert (after - created).total_seconds() == 7200


def test_a_refused_policy_keeps_the_values_and_names_the_cell(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    _calendar_id, policy_id = _desk(uow)
    answer = admin_client.post(
        f"/admin/sla/policies/{policy_id}",
        data={
            "name": "Kept policy name",
            "target_P1_first_response": "-5",
            "warning_fractions": "2",
        },
    )
    assert answer.status_code == 422
    assert 'value="Kept policy name"' in answer.text
    assert 'name="target_P1_first_response" value="-5" aria-invalid="true"' in answer.text
    policy = sla.get_policy(uow, policy_id=policy_id, actor=SYSTEM)
    assert policy.name == "Standard"
    assert [t.minutes for t in policy.targets] == [60]
    refused_csrf(admin_client, f"/admin/sla/policies/{policy_id}/toggle", {})
    assert sla.get_policy(uow, policy_id=policy_id, actor=SYSTEM).is_active


def test_policies_are_reordered_switched_and_matched(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    calendar_id, first_id = _desk(uow)
    assert (
        admin_client.post(
            "/admin/sla/policies",
            data={"policy_name": "VIP", "calendar_id": str(calendar_id)},
            follow_redirects=False,
        ).status_code
        == 303
    )
    second = next(p for p in sla.list_policies(uow, actor=SYSTEM) if p.name == "VIP")
    assert not second.is_active  # created switched off
    admin_client.post(f"/admin/sla/policies/{second.id}/move", data={"direction": "up"})
    assert [p.id for p in sla.list_policies(uow, actor=SYSTEM)] == [second.id, first_id]
    admin_client.post(f"/admin/sla/policies/{second.id}/toggle")
    assert sla.get_policy(uow, policy_id=second.id, actor=SYSTEM).is_active
    ticket = make_ticket(uow, requester=make_customer(uow), priority="P3")
    uow.commit()
    page = admin_client.get(f"/admin/sla?ticket={format_ticket_number(ticket.id)}").text
    assert 'id="match-result"' in page
    assert "Policy: VIP" in page
    assert "TK-" in admin_client.get("/admin/sla?ticket=nonsense").text


def test_the_escalation_ladder_is_added_to_and_reordered(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    _calendar_id, policy_id = _desk(uow)
    for amount in ("50", "90"):
        answer = admin_client.post(
            f"/admin/sla/policies/{policy_id}/steps",
            data={
                "kind": "resolution",
                "trigger": "fraction",
                "amount": amount,
                "action": "notify_assignee",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:2000]
    refused = admin_client.post(
        f"/admin/sla/policies/{policy_id}/steps",
        data={
            "kind": "resolution",
            "trigger": "fraction",
            "amount": "150",
            "action": "notify_assignee",
        },
    )
    assert refused.status_code == 422
    admin_client.post(f"/admin/sla/policies/{policy_id}/steps/1", data={"operation": "up"})
    steps = sla.get_policy(uow, policy_id=policy_id, actor=SYSTEM).escalations
    assert [s.at_fraction for s in steps] == [0.9, 0.5]


def test_calendar_hours_days_and_the_bundled_holidays(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    answer = admin_client.post(
        "/admin/sla/calendars",
        data={"name": "Beijing desk", "time_zone": "Asia/Shanghai", "preset": "weekdays"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    calendar = next(c for c in sla.list_calendars(uow, actor=SYSTEM) if c.name == "Beijing desk")
    form = {
        "name": "Beijing desk",
        "time_zone": "Asia/Shanghai",
        "hours_mon": "09:00-12:00, 13:00-18:00",
    }
    assert (
        admin_client.post(answer.headers["location"], data=form, follow_redirects=False).status_code
        == 303
    )
    calendar = sla.get_calendar(uow, calendar_id=calendar.id, actor=SYSTEM)
    assert calendar.weekly_hours == {"mon": ["09:00-12:00", "13:00-18:00"]}
    refused = admin_client.post(
        answer.headers["location"], data={**form, "hours_tue": "25:00-nope"}
    )
    assert refused.status_code == 422
    assert 'value="25:00-nope"' in refused.text
    admin_client.post(
        f"/admin/sla/calendars/{calendar.id}/days",
        data={"date": "2026-12-24", "kind": "holiday", "name": "Eve"},
    )
    calendar = sla.get_calendar(uow, calendar_id=calendar.id, actor=SYSTEM)
    assert [(d.date, d.name) for d in calendar.days] == [(date(2026, 12, 24), "Eve")]
    admin_client.post(f"/admin/sla/calendars/{calendar.id}/days/{calendar.days[0].id}/delete")
    assert sla.get_calendar(uow, calendar_id=calendar.id, actor=SYSTEM).days == []
    answer = admin_client.post(
        f"/admin/sla/calendars/{calendar.id}/holidays",
        data={"year": "2026"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    days = sla.get_calendar(uow, calendar_id=calendar.id, actor=SYSTEM).days
    assert any(d.date == date(2026, 10, 1) for d in days)
