"""API tokens: your own, or (admins) another agent's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.builders import customer_principal, make_agent, make_customer, principal_of

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.errors import (
    AgentInactive,
    AgentNotFound,
    ApiTokenNotFound,
    TokenExpiryInPast,
)
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.errors import PermissionDenied


def test_an_agent_creates_lists_and_revokes_their_own_tokens(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    agent = principal_of(uow, make_agent(uow, password=None))
    token, secret = management.issue_api_token(
        uow, actor=agent, via="t", name="CI", expires_at=clock.now() + timedelta(days=30)
    )
    assert (token.agent_id, token.name, token.display_prefix) == (agent.id, "CI", secret[:10])
    assert accounts.principal_for_token(uow, secret) == agent
    assert [t.id for t in management.list_api_tokens(uow, actor=agent)] == [token.id]
    management.revoke_api_token(uow, token_id=token.id, actor=agent, via="t")
    management.revoke_api_token(uow, token_id=token.id, actor=agent, via="t")
    assert management.list_api_tokens(uow, actor=agent) == []
    assert accounts.principal_for_token(uow, secret) is None


def test_an_admin_creates_and_revokes_tokens_of_another_agent(uow: UnitOfWork) -> None:
    admin = principal_of(uow, make_agent(uow, role=Role.admin, password=None))
    agent = make_agent(uow, email="bot@example.com", password=None)
    token, _secret = management.issue_api_token(uow, actor=admin, via="t", email="BOT@example.com")
    assert token.agent_id == agent.id
    assert [t.id for t in management.list_api_tokens(uow, actor=admin, agent_id=agent.id)] == [
        token.id
    ]
    management.revoke_api_token(uow, token_id=token.id, actor=admin, via="t")
    assert token.revoked_at is not None


def test_others_tokens_are_out_of_reach(uow: UnitOfWork) -> None:
    owner = make_agent(uow, email="owner@example.com", password=None)
    supervisor = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
    customer = customer_principal(make_customer(uow))
    token, _secret = accounts.create_api_token(uow, email=owner.email, actor=SYSTEM, via="t")
    for actor in (supervisor, customer):
        with pytest.raises(ApiTokenNotFound):
            management.revoke_api_token(uow, token_id=token.id, actor=actor, via="t")
        with pytest.raises(PermissionDenied):
            management.list_api_tokens(uow, actor=actor, agent_id=owner.id)
        with pytest.raises(PermissionDenied):
            management.issue_api_token(uow, actor=actor, via="t", email=owner.email)
    with pytest.raises(PermissionDenied):
        management.issue_api_token(uow, actor=customer, via="t")
    assert token.revoked_at is None
    assert [t.agent_id for t in management.list_api_tokens(uow, actor=supervisor)] == []


def test_a_customer_lists_and_revokes_their_own_tokens(uow: UnitOfWork) -> None:
    customer = make_customer(uow, email="portal@example.cn")
    token, _secret = accounts.create_api_token(
        uow, email="portal@example.cn", actor=SYSTEM, via="t"
    )
    actor = customer_principal(customer)
    assert [t.id for t in management.list_api_tokens(uow, actor=actor)] == [token.id]
    management.revoke_api_token(uow, token_id=token.id, actor=actor, via="t")
    assert management.list_api_tokens(uow, actor=actor) == []


def test_tokens_are_refused_for_inactive_or_unknown_agents_and_past_expiry(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    gone = make_agent(uow, email="gone@example.com", password=None)
    gone.is_active = False
    with pytest.raises(AgentInactive):
        management.issue_api_token(uow, actor=SYSTEM, via="t", email="gone@example.com")
    with pytest.raises(AgentNotFound):
        management.issue_api_token(uow, actor=SYSTEM, via="t", email="nobody@example.com")
    agent = principal_of(uow, make_agent(uow, password=None))
    with pytest.raises(TokenExpiryInPast):
        management.issue_api_token(uow, actor=agent, via="t", expires_at=clock.now())
