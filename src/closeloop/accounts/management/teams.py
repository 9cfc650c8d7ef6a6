"""Managing teams: create, change, members and lead. A team's lead is always one of its
members: choosing a lead adds them, and the lead cannot be removed while they lead."""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts import repository
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal, is_valid_identity, normalise_identity
from closeloop.accounts.errors import (
    AgentInactive,
    InvalidIdentity,
    NameAlreadyUsed,
    TeamLeadNotRemovable,
    TeamNotFound,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import apply, record
from closeloop.accounts.models import Agent, Team, TeamMembership
from closeloop.accounts.schemas import TeamRead, TeamUpdate
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork

ENTITY = "team"


def _visible(uow: UnitOfWork, team_id: int, actor: Principal, *, for_update: bool = False) -> Team:
    if not permissions.can_read_accounts(actor):
        raise TeamNotFound(team_id=team_id)
    team = (
        repository.team_for_update(uow.session, team_id)
        if for_update
        else uow.session.get(Team, team_id)
    )
    if team is None:
        raise TeamNotFound(team_id=team_id)
    return team


def _for_change(uow: UnitOfWork, team_id: int, actor: Principal) -> Team:
    """Lock the team for an admin's change; others get 403, or 404 if they cannot see teams."""
    if permissions.can_read_accounts(actor):
        permissions.require(permissions.can_manage_staff(actor))
    return _visible(uow, team_id, actor, for_update=True)


def _active_agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = accounts.get_agent(uow, agent_id)
    if not agent.is_active:
        raise AgentInactive(agent_id=agent_id)
    return agent


def _clean_email(email: str | None) -> str | None:
    if email is None:
        return None
    normalised = normalise_identity(IdentityKind.email, email)
    if not is_valid_identity(IdentityKind.email, normalised):
        raise InvalidIdentity(kind=IdentityKind.email.value, value=email)
    return normalised


def _check_name(uow: UnitOfWork, name: str, team_id: int | None = None) -> str:
    name = name.strip()
    if repository.team_name_taken(uow.session, name, except_id=team_id):
        raise NameAlreadyUsed(name=name)
    return name


def _member_ids(uow: UnitOfWork, team_id: int) -> list[int]:
    return repository.member_ids_by_team(uow.session, [team_id])[team_id]


def _join(uow: UnitOfWork, team: Team, agent_id: int, members: list[int]) -> Change | None:
    """Add a membership unless there is one; the change to ``member_ids`` if there was none."""
    if agent_id in members:
        return None
    uow.session.add(TeamMembership(team_id=team.id, agent_id=agent_id, created_at=uow.clock.now()))
    return Change("member_ids", members, sorted([*members, agent_id]))


def create_team(
    uow: UnitOfWork,
    *,
    name: str,
    actor: Principal,
    via: str,
    description: str = "",
    email: str | None = None,
    lead_id: int | None = None,
) -> Team:
    permissions.require(permissions.can_manage_staff(actor))
    name = _check_name(uow, name)
    email = _clean_email(email)
    if lead_id is not None:
        _active_agent(uow, lead_id)
    now = uow.clock.now()
    team = Team(
        name=name,
        description=description,
        email=email,
        lead_id=lead_id,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(team)
    uow.session.flush()
    changes = [Change("name", None, name)]
    if description:
        changes.append(Change("description", None, description))
    if email:
        changes.append(Change("email", None, email))
    if lead_id is not None:
        changes.append(Change("lead_id", None, lead_id))
        joined = _join(uow, team, lead_id, [])
        assert joined is not None
        changes.append(joined)
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=team.id,
        action="team.created",
        actor=actor,
        via=via,
        changes=changes,
        new_entity=True,
    )
    return team


def get_team(uow: UnitOfWork, *, team_id: int, actor: Principal) -> Team:
    return _visible(uow, team_id, actor)


def list_teams(
    uow: UnitOfWork, *, actor: Principal, is_active: bool | None = None
) -> Sequence[Team]:
    permissions.require(permissions.can_read_accounts(actor))
    return repository.teams(uow.session, is_active=is_active)


def present_teams(uow: UnitOfWork, teams: Sequence[Team]) -> list[TeamRead]:
    members = repository.member_ids_by_team(uow.session, [team.id for team in teams])
    return [TeamRead.of(team, member_ids=members[team.id]) for team in teams]


def update_team(
    uow: UnitOfWork, *, team_id: int, changes: TeamUpdate, actor: Principal, via: str
) -> Team:
    team = _for_change(uow, team_id, actor)
    values = changes.given()
    if "name" in values:
        values["name"] = _check_name(uow, values["name"], team.id)
    if "email" in values:
        values["email"] = _clean_email(values["email"])
    lead_id = values.get("lead_id")
    if lead_id is not None and lead_id != team.lead_id:
        _active_agent(uow, lead_id)
    applied = apply(team, values)
    if lead_id is not None:
        joined = _join(uow, team, lead_id, _member_ids(uow, team.id))
        if joined is not None:
            applied.append(joined)
    if not applied:
        return team
    team.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=team.id,
        action="team.updated",
        actor=actor,
        via=via,
        changes=applied,
    )
    return team


def deactivate_team(uow: UnitOfWork, *, team_id: int, actor: Principal, via: str) -> Team:
    """Retire a team: it keeps its history and tickets, and can be reactivated."""
    return update_team(
        uow, team_id=team_id, changes=TeamUpdate(is_active=False), actor=actor, via=via
    )


def add_team_member(
    uow: UnitOfWork, *, team_id: int, agent_id: int, actor: Principal, via: str
) -> None:
    """Make the agent a member; adding a member twice changes nothing."""
    team = _for_change(uow, team_id, actor)
    members = _member_ids(uow, team.id)
    if agent_id in members:
        return
    _active_agent(uow, agent_id)
    joined = _join(uow, team, agent_id, members)
    assert joined is not None
    team.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=team.id,
        action="team.member_added",
        actor=actor,
        via=via,
        changes=[joined],
    )


def remove_team_member(
    uow: UnitOfWork, *, team_id: int, agent_id: int, actor: Principal, via: str
) -> None:
    """Take the agent out of the team; removing a non-member changes nothing. The lead stays
    until another lead is chosen (or the lead is cleared)."""
    team = _for_change(uow, team_id, actor)
    agent = accounts.get_agent(uow, agent_id)
    membership = uow.session.get(TeamMembership, (team.id, agent.id))
    if membership is None:
        return
    if team.lead_id == agent.id:
        raise TeamLeadNotRemovable(agent_id=agent.id, team=team.name)
    members = _member_ids(uow, team.id)
    uow.session.delete(membership)
    team.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=team.id,
        action="team.member_removed",
        actor=actor,
        via=via,
        changes=[Change("member_ids", members, [m for m in members if m != agent.id])],
    )
