"""API tokens: everyone lists and revokes their own; agents create their own; admins create
and revoke tokens of other agents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from closeloop.accounts import repository
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import (
    AgentInactive,
    AgentNotFound,
    ApiTokenNotFound,
    TokenExpiryInPast,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.models import ApiToken
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import ensure_utc


def list_api_tokens(
    uow: UnitOfWork, *, actor: Principal, agent_id: int | None = None
) -> Sequence[ApiToken]:
    """The caller's tokens that are not revoked; an admin may ask for another agent's."""
    if agent_id is not None and not (actor.is_agent and agent_id == actor.id):
        permissions.require(permissions.can_manage_staff(actor))
        return repository.tokens_of(uow.session, agent_id=agent_id)
    if actor.is_customer:
        return repository.tokens_of(uow.session, customer_id=actor.id)
    permissions.require(actor.is_agent)
    return repository.tokens_of(uow.session, agent_id=actor.id)


def issue_api_token(
    uow: UnitOfWork,
    *,
    actor: Principal,
    via: str,
    name: str = "",
    expires_at: datetime | None = None,
    email: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the calling agent, or (admins) for the agent with ``email``; return it
    with its secret, which is never stored and cannot be shown again."""
    permissions.require(actor.is_agent or actor.is_admin)
    if email is None:
        permissions.require(actor.is_agent)
        assert actor.id is not None
        owner = accounts.get_agent(uow, actor.id)
    else:
        found = accounts.find_agent_by_email(uow, email)
        if found is None or not (actor.is_agent and found.id == actor.id):
            permissions.require(permissions.can_manage_staff(actor))
        if found is None:
            raise AgentNotFound(agent_id=email)
        owner = found
    if not owner.is_active:
        raise AgentInactive(agent_id=owner.id)
    if expires_at is not None:
        expires_at = ensure_utc(expires_at)
        if expires_at <= uow.clock.now():
            raise TokenExpiryInPast()
    return accounts.create_api_token(
        uow, email=owner.email, actor=actor, via=via, name=name, expires_at=expires_at
    )


def revoke_api_token(uow: UnitOfWork, *, token_id: int, actor: Principal, via: str) -> None:
    """Revoke one of your own tokens (admins: any agent's). Revoking twice is harmless; a token
    the caller may not manage answers as if it did not exist."""
    token = uow.session.get(ApiToken, token_id)
    if token is None or not _may_manage(actor, token):
        raise ApiTokenNotFound(token_id=token_id)
    accounts.revoke_api_token(uow, token_id=token.id, actor=actor, via=via)


def _may_manage(actor: Principal, token: ApiToken) -> bool:
    if token.agent_id is not None:
        return permissions.can_manage_tokens_of_agent(actor, token.agent_id)
    return actor.is_customer and actor.id == token.customer_id
