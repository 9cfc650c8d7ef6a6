"""Skills and agents' levels in them."""

from __future__ import annotations

import pytest
from tests.builders import customer_principal, make_agent, make_customer, make_skill, principal_of

from closeloop.accounts import management
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.errors import (
    AgentSkillNotFound,
    InvalidSkillLevel,
    NameAlreadyUsed,
    SkillNotFound,
)
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied


def _agent_changes(uow: UnitOfWork, agent_id: int) -> list[tuple[str, str | None, object, object]]:
    return [
        (e.action, e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="agent", entity_id=agent_id)
        if e.action.startswith("agent.skill")
    ]


def test_setting_a_level_inserts_then_updates_and_audits_old_and_new(uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    skill = management.create_skill(uow, name="Printers", actor=SYSTEM, via="t")
    for level in (2, 4, 4):
        management.set_agent_skill(
            uow, agent_id=agent.id, skill_id=skill.id, level=level, actor=SYSTEM, via="t"
        )
    assert management.get_agent_skill(uow, agent_id=agent.id, skill_id=skill.id, actor=SYSTEM) == 4
    assert management.present_agents(uow, [agent])[0].skills[0].model_dump() == {
        "skill_id": skill.id,
        "level": 4,
    }
    assert _agent_changes(uow, agent.id) == [
        ("agent.skill_set", f"skills.{skill.id}", None, 2),
        ("agent.skill_set", f"skills.{skill.id}", 2, 4),
    ]


@pytest.mark.parametrize("level", [0, 6, -1], ids=["zero_case", "six_case", "negative_case"])
def test_levels_run_from_one_to_five(uow: UnitOfWork, level: int) -> None:
    agent, skill = make_agent(uow, password=None), make_skill(uow)
    with pytest.raises(InvalidSkillLevel) as refused:
        management.set_agent_skill(
            uow, agent_id=agent.id, skill_id=skill.id, level=level, actor=SYSTEM, via="t"
        )
    assert refused.value.render("en") == (
        f"A skill level is a whole number from 1 to 5; {level} is not."
    )


def test_removing_a_skill_from_an_agent(uow: UnitOfWork) -> None:
    agent, skill = make_agent(uow, password=None), make_skill(uow)
    management.set_agent_skill(
        uow, agent_id=agent.id, skill_id=skill.id, level=3, actor=SYSTEM, via="t"
    )
    management.remove_agent_skill(uow, agent_id=agent.id, skill_id=skill.id, actor=SYSTEM, via="t")
    management.remove_agent_skill(uow, agent_id=agent.id, skill_id=skill.id, actor=SYSTEM, via="t")
    with pytest.raises(AgentSkillNotFound):
        management.get_agent_skill(uow, agent_id=agent.id, skill_id=skill.id, actor=SYSTEM)
    assert _agent_changes(uow, agent.id)[-1] == (
        "agent.skill_removed",
        f"skills.{skill.id}",
        3,
        None,
    )


def test_deleting_a_skill_takes_it_from_every_agent_with_a_trail_on_each(
    uow: UnitOfWork,
) -> None:
    first, second = make_agent(uow, password=None), make_agent(uow, password=None)
    skill = management.create_skill(uow, name="VPN", description="Remote", actor=SYSTEM, via="t")
    for agent, level in ((first, 5), (second, 1)):
        management.set_agent_skill(
            uow, agent_id=agent.id, skill_id=skill.id, level=level, actor=SYSTEM, via="t"
        )
    management.delete_skill(uow, skill_id=skill.id, actor=SYSTEM, via="t")
    with pytest.raises(SkillNotFound):
        management.get_skill(uow, skill_id=skill.id, actor=SYSTEM)
    assert [r.skills for r in management.present_agents(uow, [first, second])] == [[], []]
    assert _agent_changes(uow, first.id)[-1] == (
        "agent.skill_removed",
        f"skills.{skill.id}",
        5,
        None,
    )
    assert _agent_changes(uow, second.id)[-1] == (
        "agent.skill_removed",
        f"skills.{skill.id}",
        1,
        None,
    )
    assert [
        (e.action, e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="skill", entity_id=skill.id)
    ] == [
        ("skill.created", "name", None, "VPN"),
        ("skill.created", "description", None, "Remote"),
        ("skill.deleted", "name", "VPN", None),
    ]


def test_skill_names_are_unique_whatever_the_case(uow: UnitOfWork) -> None:
    make_skill(uow, name="Email")
    with pytest.raises(NameAlreadyUsed):
        management.create_skill(uow, name="EMAIL", actor=SYSTEM, via="t")


def test_only_admins_manage_skills(uow: UnitOfWork) -> None:
    agent, skill = make_agent(uow, role=Role.supervisor, password=None), make_skill(uow)
    supervisor = principal_of(uow, agent)
    customer = customer_principal(make_customer(uow))
    with pytest.raises(PermissionDenied):
        management.create_skill(uow, name="Mine", actor=supervisor, via="t")
    with pytest.raises(PermissionDenied):
        management.set_agent_skill(
            uow, agent_id=agent.id, skill_id=skill.id, level=5, actor=supervisor, via="t"
        )
    with pytest.raises(SkillNotFound):
        management.get_skill(uow, skill_id=skill.id, actor=customer)
    assert [s.id for s in management.list_skills(uow, actor=supervisor)] == [skill.id]
    assert management.present_agents(uow, [agent])[0].skills == []
