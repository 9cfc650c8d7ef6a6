"""Managing agents: invite, change, deactivate, passwords."""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts import repository
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import (
    IdentityKind,
    Principal,
    Role,
    is_valid_identity,
    normalise_identity,
)
from closeloop.accounts.errors import (
    AgentNotFound,
    CurrentPasswordRequired,
    CurrentPasswordWrong,
    EmailAlreadyUsed,
    InvalidIdentity,
    LastAdminRequired,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import (
    apply,
    check_locale,
    check_time_zone,
    name_cursor,
    next_name_cursor,
    page_size,
    record,
)
from closeloop.accounts.management.domain import leaves_no_admin
from closeloop.accounts.models import Agent
from closeloop.accounts.passwords import verify_password
from closeloop.accounts.repository import AgentQuery
from closeloop.accounts.schemas import AgentRead, AgentUpdate
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, Page

ENTITY = "agent"


def _visible(
    uow: UnitOfWork, agent_id: int, actor: Principal, *, for_update: bool = False
) -> Agent:
    """The agent, if the actor may see agents at all; otherwise as if it did not exist."""
    if not permissions.can_read_accounts(actor):
        raise AgentNotFound(agent_id=agent_id)
    agent = (
        repository.agent_for_update(uow.session, agent_id)
        if for_update
        else uow.session.get(Agent, agent_id)
    )
    if agent is None:
        raise AgentNotFound(agent_id=agent_id)
    return agent


def create_agent(
    uow: UnitOfWork,
    *,
    name: str,
    email: str,
    role: Role,
    actor: Principal,
    via: str,
    password: str | None = None,
    locale: str | None = None,
    time_zone: str | None = None,
    is_senior: bool = False,
) -> Agent:
    permissions.require(permissions.can_manage_staff(actor))
    check_locale(locale)
    check_time_zone(time_zone)
    return accounts.create_agent(
        uow,
        name=name,
        email=email,
        role=role,
        actor=actor,
        via=via,
        password=password,
        locale=locale,
        time_zone=time_zone,
        is_senior=is_senior,
    )


def get_agent(uow: UnitOfWork, *, agent_id: int, actor: Principal) -> Agent:
    return _visible(uow, agent_id, actor)


def list_agents(
    uow: UnitOfWork,
    *,
    actor: Principal,
    text: str = "",
    role: Role | None = None,
    is_active: bool | None = None,
    team_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[Agent]:
    """Agents by name; ``text`` matches the start of a name or an email."""
    permissions.require(permissions.can_read_accounts(actor))
    size = page_size(limit)
    query = AgentQuery(
        text=text,
        role=role.value if role else None,
        is_active=is_active,
        team_id=team_id,
        after=name_cursor(cursor),
        limit=size,
    )
    agents, more = repository.agents_page(uow.session, query)
    return Page(items=agents, next_cursor=next_name_cursor(agents, more))


def present_agents(uow: UnitOfWork, agents: Sequence[Agent]) -> list[AgentRead]:
    """Read models with teams and skills, in two queries whatever the number of agents."""
    ids = [agent.id for agent in agents]
    teams = repository.team_ids_by_agent(uow.session, ids)
    skills = repository.skill_levels_by_agent(uow.session, ids)
    return [AgentRead.of(a, team_ids=teams[a.id], skills=skills[a.id]) for a in agents]


def update_agent(
    uow: UnitOfWork, *, agent_id: int, changes: AgentUpdate, actor: Principal, via: str
) -> Agent:
    """Change an agent. Admins change anything; an agent changes their own name, locale and
    time zone. Deactivating revokes the agent's API tokens and ends their sessions. Nobody
    demotes or deactivates the last active admin."""
    agent = _visible(uow, agent_id, actor, for_update=True)
    values = changes.given()
    permissions.require(permissions.can_update_agent(actor, agent.id, values))
    check_locale(values.get("locale"))
    check_time_zone(values.get("time_zone"))
    if "email" in values:
        values["email"] = _available_email(uow, values["email"], agent.id)
    role = Role(values.get("role", agent.role))
    is_active = bool(values.get("is_active", agent.is_active))
    if (
        agent.role == Role.admin.value
        and agent.is_active
        and (role, is_active) != (Role.admin, True)
    ):
        admins = repository.active_admin_ids(uow.session, for_update=True)
        if leaves_no_admin(
            active_admin_ids=admins, agent_id=agent.id, role=role, is_active=is_active
        ):
            raise LastAdminRequired(name=agent.name)
    applied = apply(agent, values)
    if not applied:
        return agent
    agent.updated_at = uow.clock.now()
    action = "agent.updated"
    if "is_active" in {c.field for c in applied}:
        action = "agent.reactivated" if agent.is_active else "agent.deactivated"
        if not agent.is_active:
            applied += _revoke_access(uow, agent)
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=agent.id,
        action=action,
        actor=actor,
        via=via,
        changes=applied,
    )
    return agent


def deactivate_agent(uow: UnitOfWork, *, agent_id: int, actor: Principal, via: str) -> Agent:
    """Switch an agent off: they can no longer sign in, and their tokens and sessions end."""
    return update_agent(
        uow, agent_id=agent_id, changes=AgentUpdate(is_active=False), actor=actor, via=via
    )


def _available_email(uow: UnitOfWork, email: str, agent_id: int) -> str:
    normalised = normalise_identity(IdentityKind.email, email)
    if not is_valid_identity(IdentityKind.email, normalised):
        raise InvalidIdentity(kind=IdentityKind.email.value, value=email)
    if repository.agent_email_taken(uow.session, normalised, except_id=agent_id):
        raise EmailAlreadyUsed(email=normalised)
    return normalised


def _revoke_access(uow: UnitOfWork, agent: Agent) -> list[Change]:
    now = uow.clock.now()
    changes: list[Change] = []
    tokens = repository.tokens_of(uow.session, agent_id=agent.id)
    for token in tokens:
        token.revoked_at = now
    if tokens:
        changes.append(Change("api_tokens", [t.display_prefix for t in tokens], []))
    ended = repository.delete_login_sessions_of_agent(uow.session, agent.id)
    if ended:
        changes.append(Change("login_sessions", ended, 0))
    return changes


def change_password(
    uow: UnitOfWork,
    *,
    agent_id: int,
    new_password: str,
    actor: Principal,
    via: str,
    current_password: str | None = None,
) -> None:
    """An agent changes their own password by giving the current one; an admin resets
    another agent's, which also ends that agent's sessions."""
    agent = _visible(uow, agent_id, actor, for_update=True)
    if actor.is_agent and actor.id == agent.id:
        if current_password is None:
            raise CurrentPasswordRequired()
        if not verify_password(agent.password_hash, current_password):
            raise CurrentPasswordWrong()
        accounts.set_password(uow, agent_id=agent.id, password=new_password, actor=actor, via=via)
        return
    permissions.require(permissions.can_manage_staff(actor))
    accounts.set_password(uow, agent_id=agent.id, password=new_password, actor=actor, via=via)
    ended = repository.delete_login_sessions_of_agent(uow.session, agent.id)
    if ended:
        record(
            uow,
            entity_type=ENTITY,
            entity_id=agent.id,
            action="agent.sessions_ended",
            actor=actor,
            via=via,
            changes=[Change("login_sessions", ended, 0)],
        )
