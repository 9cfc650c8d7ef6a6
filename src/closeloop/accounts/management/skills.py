"""Skills and each agent's level in them (1 to 5), used by skill-based routing."""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts import repository
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import (
    AgentNotFound,
    AgentSkillNotFound,
    InvalidSkillLevel,
    NameAlreadyUsed,
    SkillNotFound,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import apply, record
from closeloop.accounts.management.domain import (
    SKILL_LEVEL_MAX,
    SKILL_LEVEL_MIN,
    is_valid_skill_level,
)
from closeloop.accounts.models import Agent, AgentSkill, Skill
from closeloop.accounts.schemas import SkillUpdate
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork

ENTITY = "skill"
AGENT_ENTITY = "agent"


def _visible(uow: UnitOfWork, skill_id: int, actor: Principal) -> Skill:
    skill = uow.session.get(Skill, skill_id) if permissions.can_read_accounts(actor) else None
    if skill is None:
        raise SkillNotFound(skill_id=skill_id)
    return skill


def _for_change(uow: UnitOfWork, skill_id: int, actor: Principal) -> Skill:
    if permissions.can_read_accounts(actor):
        permissions.require(permissions.can_manage_staff(actor))
    return _visible(uow, skill_id, actor)


def _agent_for_change(uow: UnitOfWork, agent_id: int, actor: Principal) -> Agent:
    if not permissions.can_read_accounts(actor):
        raise AgentNotFound(agent_id=agent_id)
    permissions.require(permissions.can_manage_staff(actor))
    agent = repository.agent_for_update(uow.session, agent_id)
    if agent is None:
        raise AgentNotFound(agent_id=agent_id)
    return agent


def _check_name(uow: UnitOfWork, name: str, skill_id: int | None = None) -> str:
    name = name.strip()
    if repository.skill_name_taken(uow.session, name, except_id=skill_id):
        raise NameAlreadyUsed(name=name)
    return name


def create_skill(
    uow: UnitOfWork, *, name: str, actor: Principal, via: str, description: str = ""
) -> Skill:
    permissions.require(permissions.can_manage_staff(actor))
    skill = Skill(name=_check_name(uow, name), description=description, created_at=uow.clock.now())
    uow.session.add(skill)
    uow.session.flush()
    changes = [Change("name", None, skill.name)]
    if description:
        changes.append(Change("description", None, description))
    record(
        uow,
        entity_type=ENTITY,
        entity_id=skill.id,
        action="skill.created",
        actor=actor,
        via=via,
        changes=changes,
        new_entity=True,
    )
    return skill


def get_skill(uow: UnitOfWork, *, skill_id: int, actor: Principal) -> Skill:
    return _visible(uow, skill_id, actor)


def list_skills(uow: UnitOfWork, *, actor: Principal) -> Sequence[Skill]:
    permissions.require(permissions.can_read_accounts(actor))
    return repository.skills(uow.session)


def update_skill(
    uow: UnitOfWork, *, skill_id: int, changes: SkillUpdate, actor: Principal, via: str
) -> Skill:
    skill = _for_change(uow, skill_id, actor)
    values = changes.given()
    if "name" in values:
        values["name"] = _check_name(uow, values["name"], skill.id)
    applied = apply(skill, values)
    if applied:
        uow.session.flush()
        record(
            uow,
            entity_type=ENTITY,
            entity_id=skill.id,
            action="skill.updated",
            actor=actor,
            via=via,
            changes=applied,
        )
    return skill


def delete_skill(uow: UnitOfWork, *, skill_id: int, actor: Principal, via: str) -> None:
    """Delete a skill and every agent's level in it (each agent's trail records the loss)."""
    skill = _for_change(uow, skill_id, actor)
    levels = repository.levels_for_skill(uow.session, skill.id)
    for agent_id, level in levels.items():
        record(
            uow,
            entity_type=AGENT_ENTITY,
            entity_id=agent_id,
            action="agent.skill_removed",
            actor=actor,
            via=via,
            changes=[Change(f"skills.{skill.id}", level, None)],
        )
    record(
        uow,
        entity_type=ENTITY,
        entity_id=skill.id,
        action="skill.deleted",
        actor=actor,
        via=via,
        changes=[Change("name", skill.name, None)],
    )
    uow.session.delete(skill)
    uow.session.flush()


def get_agent_skill(uow: UnitOfWork, *, agent_id: int, skill_id: int, actor: Principal) -> int:
    """The agent's level in the skill."""
    if not permissions.can_read_accounts(actor) or uow.session.get(Agent, agent_id) is None:
        raise AgentNotFound(agent_id=agent_id)
    row = uow.session.get(AgentSkill, (agent_id, skill_id))
    if row is None:
        raise AgentSkillNotFound(agent_id=agent_id, skill_id=skill_id)
    return row.level


def set_agent_skill(
    uow: UnitOfWork, *, agent_id: int, skill_id: int, level: int, actor: Principal, via: str
) -> None:
    """Give the agent this level in the skill, or change the level they have."""
    agent = _agent_for_change(uow, agent_id, actor)
    if isinstance(level, bool) or not is_valid_skill_level(level):
        raise InvalidSkillLevel(level=level, minimum=SKILL_LEVEL_MIN, maximum=SKILL_LEVEL_MAX)
    skill = _visible(uow, skill_id, actor)
    row = uow.session.get(AgentSkill, (agent.id, skill.id))
    old = row.level if row is not None else None
    if old == level:
        return
    if row is None:
        uow.session.add(AgentSkill(agent_id=agent.id, skill_id=skill.id, level=level))
    else:
        row.level = level
    uow.session.flush()
    record(
        uow,
        entity_type=AGENT_ENTITY,
        entity_id=agent.id,
        action="agent.skill_set",
        actor=actor,
        via=via,
        changes=[Change(f"skills.{skill.id}", old, level)],
    )


def remove_agent_skill(
    uow: UnitOfWork, *, agent_id: int, skill_id: int, actor: Principal, via: str
) -> None:
    """Take the skill away from the agent; removing one they do not have changes nothing."""
    agent = _agent_for_change(uow, agent_id, actor)
    row = uow.session.get(AgentSkill, (agent.id, skill_id))
    if row is None:
        return
    uow.session.delete(row)
    uow.session.flush()
    record(
        uow,
        entity_type=AGENT_ENTITY,
        entity_id=agent.id,
        action="agent.skill_removed",
        actor=actor,
        via=via,
        changes=[Change(f"skills.{skill_id}", row.level, None)],
    )
