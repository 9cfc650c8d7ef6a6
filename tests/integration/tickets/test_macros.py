"""Macros (canned responses): scope permissions, filling placeholders, applying field actions."""

from __future__ import annotations

import pytest
from tests.builders import make_agent, make_customer, make_team, make_ticket, principal_of

from closeloop.accounts.domain import Role
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import NotFound
from closeloop.tickets import service as tickets
from closeloop.tickets.errors import StaleVersion
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.domain import MacroScope
from closeloop.tickets.macros.errors import MacroChangeDenied, MacroNotFound, MacroTeamRequired
from closeloop.tickets.macros.schemas import MacroActions, MacroCreate, MacroUpdate


def test_scopes_decide_who_changes_a_macro(uow: UnitOfWork) -> None:
    lead = make_agent(uow)
    team = make_team(uow, lead=lead)
    member = make_agent(uow, teams=[team])
    admin = make_agent(uow, role=Role.admin)
    lead_p, member_p, admin_p = (principal_of(uow, a) for a in (lead, member, admin))

    personal = macros.create_macro(
        uow, data=MacroCreate(title="Mine", body="Hi"), actor=member_p, via="test"
    )
    assert personal.owner_agent_id == member.id
    team_macro = macros.create_macro(
        uow,
        data=MacroCreate(title="Team", scope=MacroScope.team, team_id=team.id),
        actor=lead_p,
        via="test",
    )
    with pytest.raises(MacroChangeDenied):
        macros.create_macro(
            uow,
            data=MacroCreate(title="Team", scope=MacroScope.team, team_id=team.id),
            actor=member_p,
            via="test",
        )
    with pytest.raises(MacroChangeDenied):
        macros.create_macro(
            uow, data=MacroCreate(title="All", scope=MacroScope.global_), actor=lead_p, via="test"
        )
    with pytest.raises(MacroTeamRequired):
        macros.create_macro(
            uow, data=MacroCreate(title="No team", scope=MacroScope.team), actor=admin_p, via="t"
        )
    everyone = macros.create_macro(
        uow, data=MacroCreate(title="All", scope=MacroScope.global_), actor=admin_p, via="test"
    )
    # The member uses all three but changes only their own.
    assert [m.title for m in macros.list_macros(uow, actor=member_p)] == ["All", "Mine", "Team"]
    with pytest.raises(MacroChangeDenied):
        macros.update_macro(
            uow, macro_id=team_macro.id, data=MacroUpdate(title="x"), actor=member_p, via="t"
        )
    with pytest.raises(MacroChangeDenied):
        macros.delete_macro(uow, macro_id=everyone.id, actor=member_p, via="t")
    # Another agent's personal macro does not exist for the lead.
    with pytest.raises(MacroNotFound):
        macros.update_macro(
            uow, macro_id=personal.id, data=MacroUpdate(title="x"), actor=lead_p, via="t"
        )
    assert isinstance(MacroNotFound(macro_id=1), NotFound)
    changed = macros.update_macro(
        uow, macro_id=team_macro.id, data=MacroUpdate(body="New"), actor=lead_p, via="test"
    )
    assert changed.body == "New"
    macros.delete_macro(uow, macro_id=personal.id, actor=member_p, via="test")
    assert [m.title for m in macros.list_macros(uow, actor=member_p)] == ["All", "Team"]
    assert {m.title for m in macros.list_manageable_macros(uow, actor=admin_p)} == {"All", "Team"}


def test_filling_replaces_the_placeholders(uow: UnitOfWork) -> None:
    agent = make_agent(uow, name="李雷", role=Role.supervisor)
    customer = make_customer(uow, name="Hanmei")
    ticket = make_ticket(uow, requester=customer)
    actor = principal_of(uow, agent)
    macro = macros.create_macro(
        uow,
        data=MacroCreate(
            title="Hello",
            body="Dear {customer_name}, about {ticket_number}: {unknown} — {agent_name}",
        ),
        actor=actor,
        via="test",
    )
    filled = macros.fill_macro(uow, macro_id=macro.id, ticket_id=ticket.id, actor=actor)
    number = f"TK-{ticket.id:06d}"
    assert filled.body == f"Dear Hanmei, about {number}: {{unknown}} — 李雷"


def test_applying_sets_fields_adds_tags_and_moves_the_status(uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_agent(uow, role=Role.supervisor, teams=[team])
    actor = principal_of(uow, agent)
    ticket = make_ticket(uow, requester=make_customer(uow), tags=["vpn"])
    macro = macros.create_macro(
        uow,
        data=MacroCreate(
            title="Waiting",
            actions=MacroActions(
                status="pending",
                pending_reason="third_party",
                priority="P2",
                type="fault",
                team_id=team.id,
                add_tags=["Vendor", "vpn"],
            ),
        ),
        actor=actor,
        via="test",
    )
    changed = macros.apply_macro(
        uow,
        macro_id=macro.id,
        ticket_id=ticket.id,
        expected_version=ticket.version,
        actor=actor,
        via="test",
    )
    assert (changed.status, changed.pending_reason, changed.priority, changed.type) == (
        "pending",
        "third_party",
        "P2",
        "fault",
    )
    assert changed.team_id == team.id
    assert changed.tags == ["vpn", "vendor"]


def test_applying_with_a_stale_version_changes_nothing(uow: UnitOfWork) -> None:
    agent = make_agent(uow, role=Role.supervisor)
    actor = principal_of(uow, agent)
    ticket = make_ticket(uow, requester=make_customer(uow))
    macro = macros.create_macro(
        uow,
        data=MacroCreate(title="Urgent", actions=MacroActions(priority="P1")),
        actor=actor,
        via="test",
    )
    with pytest.raises(StaleVersion):
        macros.apply_macro(
            uow,
            macro_id=macro.id,
            ticket_id=ticket.id,
            expected_version=ticket.version - 1 if ticket.version > 1 else 99,
            actor=actor,
            via="test",
        )
    assert tickets.get_ticket(uow, ticket_id=ticket.id, actor=actor).priority == "P3"


def test_an_inactive_or_foreign_macro_cannot_be_used(uow: UnitOfWork) -> None:
    owner = principal_of(uow, make_agent(uow, role=Role.supervisor))
    other = principal_of(uow, make_agent(uow, role=Role.supervisor))
    ticket = make_ticket(uow, requester=make_customer(uow))
    macro = macros.create_macro(
        uow, data=MacroCreate(title="Mine", body="x"), actor=owner, via="test"
    )
    with pytest.raises(MacroNotFound):
        macros.fill_macro(uow, macro_id=macro.id, ticket_id=ticket.id, actor=other)
    macros.update_macro(
        uow, macro_id=macro.id, data=MacroUpdate(is_active=False), actor=owner, via="test"
    )
    with pytest.raises(MacroNotFound):
        macros.fill_macro(uow, macro_id=macro.id, ticket_id=ticket.id, actor=owner)
