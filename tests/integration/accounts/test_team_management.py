"""Managing teams: admins only, the lead is always a member, membership is idempotent."""

from __future__ import annotations

import pytest
from tests.builders import customer_principal, make_agent, make_customer, make_team, principal_of

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.errors import (
    AgentInactive,
    AgentNotFound,
    InvalidIdentity,
    NameAlreadyUsed,
    TeamLeadNotRemovable,
    TeamNotFound,
)
from closeloop.accounts.schemas import TeamUpdate
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied


def _members(uow: UnitOfWork, team_id: int) -> list[int]:
    return management.present_teams(uow, [accounts.get_team(uow, team_id)])[0].member_ids


def _changes(uow: UnitOfWork, team_id: int) -> list[tuple[str, str | None, object, object]]:
    return [
        (e.action, e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="team", entity_id=team_id)
    ]


def test_a_new_teams_lead_is_a_member_and_everything_is_audited(uow: UnitOfWork) -> None:
    lead = make_agent(uow, password=None)
    team = management.create_team(
        uow,
        name=" Billing ",
        description="Invoices",
        email="Billing@Example.com",
        lead_id=lead.id,
        actor=SYSTEM,
        via="t",
    )
    assert (team.name, team.email, team.lead_id, team.is_active) == (
        "Billing",
        "billing@example.com",
        lead.id,
        True,
    )
    assert _members(uow, team.id) == [lead.id]
    assert _changes(uow, team.id) == [
        ("team.created", "name", None, "Billing"),
        ("team.created", "description", None, "Invoices"),
        ("team.created", "email", None, "billing@example.com"),
        ("team.created", "lead_id", None, lead.id),
        ("team.created", "member_ids", [], [lead.id]),
    ]
    # The lead's principal now knows both facts.
    principal = principal_of(uow, lead)
    assert (principal.team_ids, principal.led_team_ids) == (
        frozenset([team.id]),
        frozenset([team.id]),
    )


def test_a_new_lead_joins_the_team(uow: UnitOfWork) -> None:
    first, second = make_agent(uow, password=None), make_agent(uow, password=None)
    team = management.create_team(uow, name="Network", lead_id=first.id, actor=SYSTEM, via="t")
    management.update_team(
        uow, team_id=team.id, changes=TeamUpdate(lead_id=second.id), actor=SYSTEM, via="t"
    )
    assert _members(uow, team.id) == sorted([first.id, second.id])
    assert _changes(uow, team.id)[-2:] == [
        ("team.updated", "lead_id", first.id, second.id),
        ("team.updated", "member_ids", [first.id], sorted([first.id, second.id])),
    ]


def test_adding_a_member_twice_changes_nothing_the_second_time(uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    team = make_team(uow)
    for _ in range(2):
        management.add_team_member(uow, team_id=team.id, agent_id=agent.id, actor=SYSTEM, via="t")
    assert _members(uow, team.id) == [agent.id]
    assert _changes(uow, team.id) == [("team.member_added", "member_ids", [], [agent.id])]


def test_the_lead_stays_a_member_until_another_lead_is_chosen(uow: UnitOfWork) -> None:
    lead, member = make_agent(uow, password=None), make_agent(uow, password=None)
    team = management.create_team(uow, name="Field", lead_id=lead.id, actor=SYSTEM, via="t")
    management.add_team_member(uow, team_id=team.id, agent_id=member.id, actor=SYSTEM, via="t")
    with pytest.raises(TeamLeadNotRemovable) as refused:
        management.remove_team_member(uow, team_id=team.id, agent_id=lead.id, actor=SYSTEM, via="t")
    assert refused.value.code == "team.lead_not_removable"
    assert _members(uow, team.id) == sorted([lead.id, member.id])
    management.update_team(
        uow, team_id=team.id, changes=TeamUpdate(lead_id=None), actor=SYSTEM, via="t"
    )
    management.remove_team_member(uow, team_id=team.id, agent_id=lead.id, actor=SYSTEM, via="t")
    # Removing someone who is not a member changes nothing.
    management.remove_team_member(uow, team_id=team.id, agent_id=lead.id, actor=SYSTEM, via="t")
    assert _members(uow, team.id) == [member.id]
    assert _changes(uow, team.id)[-2:] == [
        ("team.updated", "lead_id", lead.id, None),
        ("team.member_removed", "member_ids", sorted([lead.id, member.id]), [member.id]),
    ]


def test_inactive_or_unknown_agents_cannot_join_or_lead(uow: UnitOfWork) -> None:
    gone = make_agent(uow, password=None)
    gone.is_active = False
    team = make_team(uow)
    with pytest.raises(AgentInactive):
        management.add_team_member(uow, team_id=team.id, agent_id=gone.id, actor=SYSTEM, via="t")
    with pytest.raises(AgentInactive):
        management.create_team(uow, name="Ghosts", lead_id=gone.id, actor=SYSTEM, via="t")
    with pytest.raises(AgentNotFound):
        management.update_team(
            uow, team_id=team.id, changes=TeamUpdate(lead_id=999_999), actor=SYSTEM, via="t"
        )
    assert _members(uow, team.id) == []


def test_team_names_are_unique_whatever_the_case(uow: UnitOfWork) -> None:
    make_team(uow, name="Billing")
    other = make_team(uow, name="Sales")
    with pytest.raises(NameAlreadyUsed):
        management.create_team(uow, name="billing", actor=SYSTEM, via="t")
    with pytest.raises(NameAlreadyUsed):
        management.update_team(
            uow, team_id=other.id, changes=TeamUpdate(name="BILLING"), actor=SYSTEM, via="t"
        )
    # A team may change the case of its own name.
    management.update_team(
        uow, team_id=other.id, changes=TeamUpdate(name="SALES"), actor=SYSTEM, via="t"
    )
    assert other.name == "SALES"


def test_a_team_email_must_be_an_email(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidIdentity):
        management.create_team(uow, name="Mail", email="not an email", actor=SYSTEM, via="t")


def test_only_admins_manage_teams_and_customers_do_not_see_them(uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    team = management.create_team(uow, name="Ops", lead_id=agent.id, actor=SYSTEM, via="t")
    supervisor = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
    lead = principal_of(uow, agent)
    customer = customer_principal(make_customer(uow))
    for actor in (supervisor, lead):
        with pytest.raises(PermissionDenied):
            management.create_team(uow, name="Shadow", actor=actor, via="t")
        with pytest.raises(PermissionDenied):
            management.update_team(
                uow, team_id=team.id, changes=TeamUpdate(name="Mine"), actor=actor, via="t"
            )
        with pytest.raises(PermissionDenied):
            management.add_team_member(
                uow, team_id=team.id, agent_id=agent.id, actor=actor, via="t"
            )
        assert management.get_team(uow, team_id=team.id, actor=actor) is team
    with pytest.raises(TeamNotFound):
        management.get_team(uow, team_id=team.id, actor=customer)
    with pytest.raises(TeamNotFound):
        management.remove_team_member(
            uow, team_id=team.id, agent_id=agent.id, actor=customer, via="t"
        )
    with pytest.raises(PermissionDenied):
        management.list_teams(uow, actor=customer)
    assert team.name == "Ops"


def test_a_deactivated_team_keeps_its_members_and_can_come_back(uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    team = management.create_team(uow, name="Legacy", lead_id=agent.id, actor=SYSTEM, via="t")
    management.deactivate_team(uow, team_id=team.id, actor=SYSTEM, via="t")
    assert [t.id for t in management.list_teams(uow, actor=SYSTEM, is_active=False)] == [team.id]
    assert _members(uow, team.id) == [agent.id]
    management.update_team(
        uow, team_id=team.id, changes=TeamUpdate(is_active=True), actor=SYSTEM, via="t"
    )
    assert _changes(uow, team.id)[-2:] == [
        ("team.updated", "is_active", True, False),
        ("team.updated", "is_active", False, True),
    ]
