"""Agents over JSON: list and read (agents), invite and change (admins), passwords, skills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from closeloop.accounts import management
from closeloop.accounts.domain import Role
from closeloop.accounts.schemas import (
    AgentCreate,
    AgentPage,
    AgentRead,
    AgentSkillRead,
    AgentSkillSet,
    AgentUpdate,
    PasswordChange,
    SkillLevelRead,
)
from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(prefix="/agents", tags=["agents"])


@router.get("", response_model=AgentPage)
def list_agents(
    uow: Uow,
    actor: CurrentPrincipal,
    q: Annotated[str, Query(max_length=200, description="Start of a name or email")] = "",
    role: Role | None = None,
    is_active: bool | None = None,
    team_id: int | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> AgentPage:
    """Agents by name (agents and admins)."""
    page = management.list_agents(
        uow,
        actor=actor,
        text=q,
        role=role,
        is_active=is_active,
        team_id=team_id,
        cursor=cursor,
        limit=limit,
    )
    return AgentPage(items=management.present_agents(uow, page.items), next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=AgentRead)
def create_agent(
    data: AgentCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    """Add an agent (admins). Without a password they cannot sign in until one is set."""

    def produce() -> AgentRead:
        agent = management.create_agent(uow, **data.model_dump(), actor=actor, via=via)
        return management.present_agents(uow, [agent])[0]

    return once.respond(data, produce)


@router.get("/{agent_id}", response_model=AgentRead)
def get_agent(agent_id: int, uow: Uow, actor: CurrentPrincipal) -> AgentRead:
    agent = management.get_agent(uow, agent_id=agent_id, actor=actor)
    return management.present_agents(uow, [agent])[0]


@router.patch("/{agent_id}", response_model=AgentRead)
def update_agent(
    agent_id: int, data: AgentUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> AgentRead:
    """Change an agent (admins; an agent may change their own name, locale and time zone).
    ``is_active: false`` deactivates and revokes their API tokens and sessions; the last
    active admin cannot be demoted or deactivated."""
    agent = management.update_agent(uow, agent_id=agent_id, changes=data, actor=actor, via=via)
    uow.commit()
    return management.present_agents(uow, [agent])[0]


@router.post("/{agent_id}/password", status_code=204)
def change_password(
    agent_id: int, data: PasswordChange, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    """Change your own password (give the current one), or reset an agent's (admins)."""
    management.change_password(
        uow,
        agent_id=agent_id,
        new_password=data.new_password,
        current_password=data.current_password,
        actor=actor,
        via=via,
    )
    uow.commit()
    return Response(status_code=204)


@router.get("/{agent_id}/skills", response_model=list[SkillLevelRead])
def list_agent_skills(agent_id: int, uow: Uow, actor: CurrentPrincipal) -> list[SkillLevelRead]:
    agent = management.get_agent(uow, agent_id=agent_id, actor=actor)
    return management.present_agents(uow, [agent])[0].skills


@router.get("/{agent_id}/skills/{skill_id}", response_model=AgentSkillRead)
def get_agent_skill(
    agent_id: int, skill_id: int, uow: Uow, actor: CurrentPrincipal
) -> AgentSkillRead:
    level = management.get_agent_skill(uow, agent_id=agent_id, skill_id=skill_id, actor=actor)
    return AgentSkillRead(agent_id=agent_id, skill_id=skill_id, level=level)


@router.put("/{agent_id}/skills/{skill_id}", response_model=AgentSkillRead)
def set_agent_skill(
    agent_id: int, skill_id: int, data: AgentSkillSet, uow: Uow, actor: CurrentPrincipal, via: Via
) -> AgentSkillRead:
    """Give the agent a level (1-5) in the skill, or change it (admins)."""
    management.set_agent_skill(
        uow, agent_id=agent_id, skill_id=skill_id, level=data.level, actor=actor, via=via
    )
    uow.commit()
    return AgentSkillRead(agent_id=agent_id, skill_id=skill_id, level=data.level)


@router.delete("/{agent_id}/skills/{skill_id}", status_code=204)
def remove_agent_skill(
    agent_id: int, skill_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    management.remove_agent_skill(uow, agent_id=agent_id, skill_id=skill_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
