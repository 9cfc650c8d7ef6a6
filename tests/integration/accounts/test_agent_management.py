"""Managing agents: who may change what, the last admin, deactivation, passwords, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.builders import customer_principal, make_agent, make_customer, principal_of

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.errors import (
    AgentNotFound,
    AuthenticationFailed,
    CurrentPasswordRequired,
    CurrentPasswordWrong,
    EmailAlreadyUsed,
    InvalidTimeZone,
    LastAdminRequired,
    UnsupportedLocale,
    WeakPassword,
)
from closeloop.accounts.schemas import AgentUpdate
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.errors import PermissionDenied

PASSWORD = "correct horse battery"


def _fields(uow: UnitOfWork, agent_id: int, action: str) -> list[tuple[str | None, object, object]]:
    return [
        (e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="agent", entity_id=agent_id)
        if e.action == action
    ]


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    actor = principal_of(uow, admin)
    for changes in (AgentUpdate(role=Role.supervisor), AgentUpdate(is_active=False)):
        with pytest.raises(LastAdminRequired) as refused:
            management.update_agent(uow, agent_id=admin.id, changes=changes, actor=actor, via="t")
        assert refused.value.code == "agent.last_admin"
        assert refused.value.http_status == 409
    assert (admin.role, admin.is_active) == ("admin", True)
    assert _fields(uow, admin.id, "agent.updated") == []


def test_an_inactive_admin_does_not_count_as_another_admin(uow: UnitOfWork) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    retired = make_agent(uow, role=Role.admin, password=None)
    retired.is_active = False
    uow.session.flush()
    with pytest.raises(LastAdminRequired):
        management.deactivate_agent(uow, agent_id=admin.id, actor=SYSTEM, via="t")


def test_an_admin_steps_down_once_there_is_another_admin(uow: UnitOfWork) -> None:
    first = make_agent(uow, role=Role.admin, password=None)
    second = make_agent(uow, role=Role.agent, password=None)
    actor = principal_of(uow, first)
    management.update_agent(
        uow, agent_id=second.id, changes=AgentUpdate(role=Role.admin), actor=actor, via="t"
    )
    management.update_agent(
        uow, agent_id=first.id, changes=AgentUpdate(role=Role.agent), actor=actor, via="t"
    )
    assert (first.role, second.role) == ("agent", "admin")
    assert _fields(uow, first.id, "agent.updated") == [("role", "admin", "agent")]


def test_changing_an_agent_writes_one_audit_row_per_field_with_old_and_new(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    admin = make_agent(uow, role=Role.admin, name="Ada", password=None)
    agent = make_agent(uow, name="Wang Fang", password=None)
    clock.advance(timedelta(hours=1))
    changed = management.update_agent(
        uow,
        agent_id=agent.id,
        changes=AgentUpdate(name="王芳", time_zone="Europe/Berlin", is_senior=True, locale="zh_CN"),
        actor=principal_of(uow, admin),
        via="api:PATCH /api/v1/agents/{agent_id}",
    )
    assert changed.updated_at == clock.now()
    events = [
        e
        for e in audit.timeline(uow, entity_type="agent", entity_id=agent.id)
        if e.action == "agent.updated"
    ]
    # locale was already zh_CN (the organisation default): no row for it.
    assert [(e.field, e.old_value, e.new_value) for e in events] == [
        ("is_senior", False, True),
        ("name", "Wang Fang", "王芳"),
        ("time_zone", "Asia/Shanghai", "Europe/Berlin"),
    ]
    assert {(e.actor_type, e.actor_id, e.actor_name, e.via) for e in events} == {
        ("agent", admin.id, "Ada", "api:PATCH /api/v1/agents/{agent_id}")
    }
    assert {e.occurred_at for e in events} == {clock.now()}


def test_an_unchanged_value_writes_nothing(uow: UnitOfWork) -> None:
    agent = make_agent(uow, name="Li", password=None)
    management.update_agent(
        uow, agent_id=agent.id, changes=AgentUpdate(name="Li"), actor=SYSTEM, via="t"
    )
    assert _fields(uow, agent.id, "agent.updated") == []


def test_deactivating_revokes_the_agents_tokens_and_ends_their_sessions(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    admin = make_agent(uow, role=Role.admin, password=None)
    agent = make_agent(uow, password=None)
    actor = principal_of(uow, agent)
    token, secret = accounts.create_api_token(uow, email=agent.email, actor=SYSTEM, via="t")
    cookie, _csrf = accounts.start_login_session(uow, principal=actor, lifetime=timedelta(hours=1))
    uow.session.flush()
    assert accounts.principal_for_token(uow, secret) == actor
    management.deactivate_agent(uow, agent_id=agent.id, actor=principal_of(uow, admin), via="t")
    assert token.revoked_at == clock.now()
    assert accounts.principal_for_token(uow, secret) is None
    assert accounts.principal_for_login_session(uow, cookie) is None
    assert _fields(uow, agent.id, "agent.deactivated") == [
        ("is_active", True, False),
        ("api_tokens", [token.display_prefix], []),
        ("login_sessions", 1, 0),
    ]
    # Reactivating does not bring the revoked token back.
    management.update_agent(
        uow, agent_id=agent.id, changes=AgentUpdate(is_active=True), actor=SYSTEM, via="t"
    )
    assert accounts.principal_for_token(uow, secret) is None
    assert _fields(uow, agent.id, "agent.reactivated") == [("is_active", False, True)]


def test_an_agent_changes_their_own_profile_but_nothing_else(uow: UnitOfWork) -> None:
    agent = make_agent(uow, role=Role.supervisor, name="Zhou", password=None)
    colleague = make_agent(uow, name="Sun", password=None)
    actor = principal_of(uow, agent)
    management.update_agent(
        uow,
        agent_id=agent.id,
        changes=AgentUpdate(name="Zhou Jie", locale="en", time_zone="UTC"),
        actor=actor,
        via="t",
    )
    assert (agent.name, agent.locale, agent.time_zone) == ("Zhou Jie", "en", "UTC")
    refused = [
        (agent.id, AgentUpdate(role=Role.admin)),
        (agent.id, AgentUpdate(name="Z", is_senior=True)),
        (colleague.id, AgentUpdate(name="Sun Li")),
    ]
    for agent_id, changes in refused:
        with pytest.raises(PermissionDenied):
            management.update_agent(uow, agent_id=agent_id, changes=changes, actor=actor, via="t")
    assert (agent.role, agent.name, agent.is_senior, colleague.name) == (
        "supervisor",
        "Zhou Jie",
        False,
        "Sun",
    )


def test_customers_cannot_see_agents(uow: UnitOfWork) -> None:
    agent = make_agent(uow, password=None)
    customer = customer_principal(make_customer(uow))
    with pytest.raises(AgentNotFound):
        management.get_agent(uow, agent_id=agent.id, actor=customer)
    with pytest.raises(AgentNotFound):
        management.update_agent(
            uow, agent_id=agent.id, changes=AgentUpdate(name="x"), actor=customer, via="t"
        )
    with pytest.raises(PermissionDenied):
        management.list_agents(uow, actor=customer)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, InvalidTimeZone, id="unknown_zone_case"),
        pytest.param({"time_zone": "../../etc/passwd"}, InvalidTimeZone, id="path_case"),
        pytest.param({"time_zone": "asia/shanghai"}, InvalidTimeZone, id="wrong_case_case"),
    ],
)
def test_time_zones_must_be_known(
    uow: UnitOfWork, changes: dict[str, str], error: type[Exception]
) -> None:
    agent = make_agent(uow, password=None)
    with pytest.raises(error):
        management.update_agent(
            uow, agent_id=agent.id, changes=AgentUpdate(**changes), actor=SYSTEM, via="t"
        )
    assert agent.time_zone == "Asia/Shanghai"


def test_create_agent_is_for_admins_and_checks_locale(uow: UnitOfWork) -> None:
    supervisor = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
    with pytest.raises(PermissionDenied):
        management.create_agent(
            uow, name="N", email="n@example.com", role=Role.agent, actor=supervisor, via="t"
        )
    with pytest.raises(UnsupportedLocale):
        management.create_agent(
            uow,
            name="N",
            email="n@example.com",
            role=Role.agent,
            locale="fr",
            actor=SYSTEM,
            via="t",
        )
    created = management.create_agent(
        uow,
        name="N",
        email="N@Example.com",
        role=Role.agent,
        time_zone="Europe/London",
        actor=SYSTEM,
        via="t",
    )
    assert (created.email, created.time_zone, created.locale) == (
        "n@example.com",
        "Europe/London",
        "zh_CN",
    )


def test_a_changed_email_is_normalised_and_must_be_free(uow: UnitOfWork) -> None:
    agent = make_agent(uow, email="a@example.com", password=None)
    make_agent(uow, email="taken@example.com", password=None)
    with pytest.raises(EmailAlreadyUsed):
        management.update_agent(
            uow,
            agent_id=agent.id,
            changes=AgentUpdate(email="Taken@Example.com"),
            actor=SYSTEM,
            via="t",
        )
    management.update_agent(
        uow,
        agent_id=agent.id,
        changes=AgentUpdate(email=" New@Example.COM "),
        actor=SYSTEM,
        via="t",
    )
    assert agent.email == "new@example.com"


def test_an_agent_changes_their_password_only_with_the_current_one(uow: UnitOfWork) -> None:
    agent = make_agent(uow, email="me@example.com", password=PASSWORD)
    actor = principal_of(uow, agent)
    with pytest.raises(CurrentPasswordRequired):
        management.change_password(
            uow, agent_id=agent.id, new_password="a new passphrase", actor=actor, via="t"
        )
    with pytest.raises(CurrentPasswordWrong):
        management.change_password(
            uow,
            agent_id=agent.id,
            new_password="a new passphrase",
            current_password="wrong guess",
            actor=actor,
            via="t",
        )
    with pytest.raises(WeakPassword):
        management.change_password(
            uow,
            agent_id=agent.id,
            new_password="short",
            current_password=PASSWORD,
            actor=actor,
            via="t",
        )
    management.change_password(
        uow,
        agent_id=agent.id,
        new_password="a new passphrase",
        current_password=PASSWORD,
        actor=actor,
        via="t",
    )
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_password(uow, email="me@example.com", password=PASSWORD)
    signed_in = accounts.authenticate_password(
        uow, email="me@example.com", password="a new passphrase"
    )
    assert signed_in.id == agent.id
    assert _fields(uow, agent.id, "agent.password_changed") == [(None, None, None)]


def test_an_admin_resets_a_password_and_ends_the_agents_sessions(uow: UnitOfWork) -> None:
    admin = principal_of(uow, make_agent(uow, role=Role.admin, password=None))
    agent = make_agent(uow, email="forgot@example.com", password=PASSWORD)
    cookie, _csrf = accounts.start_login_session(
        uow, principal=principal_of(uow, agent), lifetime=timedelta(hours=1)
    )
    management.change_password(
        uow, agent_id=agent.id, new_password="reset by admin", actor=admin, via="t"
    )
    assert accounts.principal_for_login_session(uow, cookie) is None
    assert (
        accounts.authenticate_password(
            uow, email="forgot@example.com", password="reset by admin"
        ).id
        == agent.id
    )
    assert _fields(uow, agent.id, "agent.sessions_ended") == [("login_sessions", 1, 0)]


def test_only_admins_reset_another_agents_password(uow: UnitOfWork) -> None:
    supervisor = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
    agent = make_agent(uow, password=PASSWORD)
    before = agent.password_hash
    with pytest.raises(PermissionDenied):
        management.change_password(
            uow, agent_id=agent.id, new_password="taken over", actor=supervisor, via="t"
        )
    assert agent.password_hash == before


def test_agents_are_listed_by_name_a_page_at_a_time(uow: UnitOfWork) -> None:
    names = ["Chen", "An", "Bai", "Du", "Bai"]
    made = [make_agent(uow, name=name, password=None) for name in names]
    actor = principal_of(uow, made[0])
    first = management.list_agents(uow, actor=actor, limit=2)
    second = management.list_agents(uow, actor=actor, limit=2, cursor=first.next_cursor)
    third = management.list_agents(uow, actor=actor, limit=2, cursor=second.next_cursor)
    listed = [a.id for a in first.items + second.items + third.items]
    assert listed == [made[1].id, made[2].id, made[4].id, made[0].id, made[3].id]
    assert third.next_cursor is None
    found = management.list_agents(uow, actor=actor, text="b")
    assert [a.id for a in found.items] == [made[2].id, made[4].id]
