"""Admin pages for custom fields and shared canned responses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import TicketType
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.domain import MacroScope
from closeloop.tickets.macros.schemas import MacroCreate
from tests.builders import make_agent, make_custom_field, make_team, principal_of
from tests.web.admin_world import admin, admin_client, assert_admin_only, english, refused_csrf
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client"]


def _fields(uow: UnitOfWork) -> dict[str, object]:
    uow.session.expire_all()
    return {
        d.key: d for d in custom_fields.list_custom_fields(uow, actor=SYSTEM, include_inactive=True)
    }


def test_only_admins_see_the_custom_fields(
    admin_client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    field = make_custom_field(uow, key="asset_tag")
    uow.commit()
    paths = ["/admin/custom-fields", f"/admin/custom-fields/{field.id}"]
    for path in paths:
        assert admin_client.get(path).status_code == 200
    assert_admin_only(admin_client, uow, signed_in, paths)


def test_an_admin_creates_a_select_field_for_one_ticket_type(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    answer = admin_client.post(
        "/admin/custom-fields",
        data={
            "key": "device",
            "label_en": "Device",
            "label_zh": "设备",
            "field_type": "select",
            "ticket_type": "fault",
            "options": "Laptop\nPrinter\n",
            "is_required": "1",
            "position": "3",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    device = _fields(uow)["device"]
    assert (device.ticket_type, device.options, device.is_required, device.position) == (  # type: ignore[attr-defined]
        "fault", ["Laptop", "Printer"], True, 3
    )  # fmt: skip
    page = admin_client.get("/admin/custom-fields?ticket_type=fault").text
    assert "设备" in page
    assert "Laptop, Printer" in page


def test_a_refused_field_keeps_the_values(admin_client: TestClient, uow: UnitOfWork) -> None:
    answer = admin_client.post(
        "/admin/custom-fields",
        data={"key": "Bad Key", "label_en": "Kept label", "field_type": "select", "options": ""},
    )
    assert answer.status_code == 422
    assert 'value="Kept label"' in answer.text
    assert 'value="Bad Key"' in answer.text
    assert "Bad Key" not in str(_fields(uow))
    assert "field-error" in answer.text or "form-errors" in answer.text


def test_an_admin_edits_and_deactivates_a_field(admin_client: TestClient, uow: UnitOfWork) -> None:
    field = make_custom_field(
        uow,
        key="region",
        field_type=FieldType.select,
        options=["North"],
        ticket_type=TicketType.fault,
    )
    uow.commit()
    answer = admin_client.post(
        f"/admin/custom-fields/{field.id}",
        data={
            "label_en": "Region",
            "label_zh": "地区",
            "options": "North\nSouth",
            "position": "1",
            "is_active": "1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    region = _fields(uow)["region"]
    assert (region.label_zh, region.options, region.position) == ("地区", ["North", "South"], 1)  # type: ignore[attr-defined]
    refused = admin_client.post(
        f"/admin/custom-fields/{field.id}",
        data={"label_en": "", "label_zh": "kept zh", "options": "North", "is_active": "1"},
    )
    assert refused.status_code == 422
    assert 'value="kept zh"' in refused.text
    refused_csrf(admin_client, f"/admin/custom-fields/{field.id}/deactivate", {})
    assert _fields(uow)["region"].is_active  # type: ignore[attr-defined]
    admin_client.post(f"/admin/custom-fields/{field.id}/deactivate", follow_redirects=False)
    assert not _fields(uow)["region"].is_active  # type: ignore[attr-defined]


def test_an_admin_creates_and_edits_a_global_canned_response(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    answer = admin_client.post(
        "/admin/canned-responses",
        data={
            "scope": "global",
            "title": "Reset password",
            "body": "Hello {customer_name}, see {ticket_number}.",
            "status": "pending",
            "pending_reason": "customer",
            "priority": "P3",
            "add_tags": "password, self-service",
            "is_active": "1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:3000]
    (macro,) = macros.list_manageable_macros(uow, actor=SYSTEM, scope=MacroScope.global_)
    assert macro.actions == {
        "status": "pending",
        "pending_reason": "customer",
        "priority": "P3",
        "add_tags": ["password", "self-service"],
    }
    refused = admin_client.post(
        f"/admin/canned-responses/{macro.id}", data={"title": "", "body": "kept body text"}
    )
    assert refused.status_code == 422
    assert "kept body text" in refused.text
    refused_csrf(admin_client, f"/admin/canned-responses/{macro.id}/delete", {})
    answer = admin_client.post(
        f"/admin/canned-responses/{macro.id}",
        data={"title": "Password reset", "body": "Hi", "is_active": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    uow.session.expire_all()
    assert macros.get_macro(uow, macro_id=macro.id, actor=SYSTEM).title == "Password reset"


def test_a_team_lead_manages_the_canned_responses_of_their_team_only(
    client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    lead = english(uow, make_agent(uow, name="Lead"))
    mine = make_team(uow, name="Mine", lead=lead)
    other = make_team(uow, name="Other")
    uow.commit()
    other_macro = macros.create_macro(
        uow,
        data=MacroCreate(title="Theirs", scope=MacroScope.team, team_id=other.id),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    client.headers["X-CSRF-Token"] = signed_in(client, lead)
    assert client.get("/admin/agents").status_code == 404
    page = client.get("/admin/canned-responses")
    assert page.status_code == 200
    assert "Theirs" not in page.text
    assert client.get(f"/admin/canned-responses/{other_macro.id}").status_code == 404
    answer = client.post(
        "/admin/canned-responses",
        data={
            "scope": "team",
            "team_id": str(mine.id),
            "title": "Ours",
            "body": "x",
            "is_active": "1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:3000]
    leader = principal_of(uow, lead)
    assert [
        m.title for m in macros.list_manageable_macros(uow, actor=leader, scope=MacroScope.team)
    ] == ["Ours"]
    refused = client.post(
        "/admin/canned-responses",
        data={"scope": "global", "title": "Everyone's", "body": "x", "is_active": "1"},
    )
    assert refused.status_code == 422
    assert macros.list_manageable_macros(uow, actor=SYSTEM, scope=MacroScope.global_) == []
