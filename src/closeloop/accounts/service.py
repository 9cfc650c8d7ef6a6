"""Use cases of the accounts feature that everything else relies on: who is calling, and who the
customer is. Management of agents, teams, skills and companies lives in ``accounts.management``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from closeloop.accounts import repository
from closeloop.accounts.domain import (
    IdentityKind,
    Principal,
    PrincipalKind,
    Role,
    is_valid_identity,
    normalise_identity,
)
from closeloop.accounts.errors import (
    AgentNotFound,
    AuthenticationFailed,
    CustomerNotFound,
    EmailAlreadyUsed,
    IdentityAlreadyUsed,
    InvalidIdentity,
    TeamNotFound,
    WeakPassword,
)
from closeloop.accounts.events import CustomerCreated
from closeloop.accounts.models import (
    Agent,
    ApiToken,
    Customer,
    CustomerIdentity,
    LoginSession,
    Organisation,
    Team,
    TeamMembership,
)
from closeloop.accounts.passwords import MINIMUM_LENGTH, hash_password, verify_password
from closeloop.audit import service as audit
from closeloop.audit.service import Actor, Change
from closeloop.db.session import UnitOfWork

# The public name of a stored customer for other features (the model module is private).
CustomerRecord = Customer

TOKEN_PREFIX = "clp_"  # noqa: S105 (a public marker, not a secret)
# Writing last_used_at on every request would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


def actor_of(principal: Principal) -> Actor:
    return Actor(type=principal.kind.value, id=principal.id, name=principal.name)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- organisation -------------------------------------------------------------------------


def get_organisation(uow: UnitOfWork) -> Organisation:
    found = repository.organisation(uow.session)
    if found is not None:
        return found
    now = uow.clock.now()
    created = Organisation(
        name="closeloop",
        default_locale="zh_CN",
        time_zone="Asia/Shanghai",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(created)
    uow.session.flush()
    return created


def organisation_preferences(uow: UnitOfWork) -> tuple[str, str] | None:
    """The organisation's default locale and time zone, if it exists yet (never creates it)."""
    found = repository.organisation(uow.session)
    return None if found is None else (found.default_locale, found.time_zone)


# --- agents and principals ----------------------------------------------------------------


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
    email = normalise_identity(IdentityKind.email, email)
    if not is_valid_identity(IdentityKind.email, email):
        raise InvalidIdentity(kind=IdentityKind.email.value, value=email)
    if repository.agent_by_email(uow.session, email) is not None:
        raise EmailAlreadyUsed(email=email)
    if password is not None and len(password) < MINIMUM_LENGTH:
        raise WeakPassword(minimum=MINIMUM_LENGTH)
    organisation = get_organisation(uow)
    now = uow.clock.now()
    agent = Agent(
        name=name.strip(),
        email=email,
        password_hash=hash_password(password) if password else None,
        role=role.value,
        locale=locale or organisation.default_locale,
        time_zone=time_zone or organisation.time_zone,
        is_active=True,
        is_senior=is_senior,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(agent)
    uow.session.flush()
    audit.record(
        uow,
        entity_type="agent",
        entity_id=agent.id,
        action="agent.created",
        actor=actor_of(actor),
        via=via,
        changes=[Change("email", None, email), Change("role", None, role.value)],
        new_entity=True,
    )
    return agent


def get_agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = uow.session.get(Agent, agent_id)
    if agent is None:
        raise AgentNotFound(agent_id=agent_id)
    return agent


def find_agent_by_email(uow: UnitOfWork, email: str) -> Agent | None:
    return repository.agent_by_email(uow.session, normalise_identity(IdentityKind.email, email))


def principal_for_agent_id(uow: UnitOfWork, agent_id: int) -> Principal | None:
    found = repository.agent_with_teams(uow.session, agent_id)
    if found is None or not found[0].is_active:
        return None
    agent, member_of, led = found
    return Principal(
        kind=PrincipalKind.agent,
        id=agent.id,
        name=agent.name,
        role=Role(agent.role),
        team_ids=frozenset(member_of),
        led_team_ids=frozenset(led),
        locale=agent.locale,
        time_zone=agent.time_zone,
    )


def principal_for_customer(customer: Customer) -> Principal:
    return Principal(
        kind=PrincipalKind.customer,
        id=customer.id,
        name=customer.name,
        company_id=customer.company_id,
        is_company_admin=customer.is_company_admin,
        locale=customer.locale or "zh_CN",
    )


def principal_for_customer_id(uow: UnitOfWork, customer_id: int) -> Principal | None:
    """The customer as a caller; None once they were merged into another customer."""
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        return None
    return principal_for_customer(customer)


def authenticate_password(uow: UnitOfWork, *, email: str, password: str) -> Principal:
    agent = find_agent_by_email(uow, email)
    valid = verify_password(agent.password_hash if agent else None, password)
    if agent is None or not valid or not agent.is_active:
        raise AuthenticationFailed()
    agent.last_login_at = uow.clock.now()
    principal = principal_for_agent_id(uow, agent.id)
    if principal is None:
        raise AuthenticationFailed()
    return principal


def set_password(
    uow: UnitOfWork, *, agent_id: int, password: str, actor: Principal, via: str
) -> None:
    if len(password) < MINIMUM_LENGTH:
        raise WeakPassword(minimum=MINIMUM_LENGTH)
    agent = get_agent(uow, agent_id)
    agent.password_hash = hash_password(password)
    agent.updated_at = uow.clock.now()
    audit.record(
        uow,
        entity_type="agent",
        entity_id=agent.id,
        action="agent.password_changed",
        actor=actor_of(actor),
        via=via,
    )


# --- API tokens ---------------------------------------------------------------------------


def create_api_token(
    uow: UnitOfWork,
    *,
    email: str,
    actor: Principal,
    via: str,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the agent or customer with this email; return it and its secret."""
    agent = find_agent_by_email(uow, email)
    customer = None
    if agent is None:
        customer = find_customer_by_identity(uow, IdentityKind.email, email)
        if customer is None:
            raise AgentNotFound(agent_id=email)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=_digest(secret),
        display_prefix=secret[:10],
        name=name,
        agent_id=agent.id if agent else None,
        customer_id=customer.id if customer else None,
        created_at=uow.clock.now(),
        expires_at=expires_at,
    )
    uow.session.add(token)
    uow.session.flush()
    owner_type, owner_id = ("agent", agent.id) if agent else ("customer", customer.id)  # type: ignore[union-attr]
    audit.record(
        uow,
        entity_type=owner_type,
        entity_id=owner_id,
        action="api_token.created",
        actor=actor_of(actor),
        via=via,
        changes=[Change("api_token", None, token.display_prefix)],
    )
    return token, secret


def principal_for_token(uow: UnitOfWork, secret: str) -> Principal | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    found = repository.token_and_agent_by_hash(uow.session, _digest(secret))
    if found is None:
        return None
    # The agent stays referenced until the principal is built: the (weak) identity map keeps
    # it, and principal_for_agent_id does not read it again.
    token, _agent = found
    now = uow.clock.now()
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    stale = token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION
    if stale and not uow.read_only:
        token.last_used_at = now
    if token.agent_id is not None:
        return principal_for_agent_id(uow, token.agent_id)
    assert token.customer_id is not None
    return principal_for_customer_id(uow, token.customer_id)


def revoke_api_token(uow: UnitOfWork, *, token_id: int, actor: Principal, via: str) -> None:
    token = uow.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return
    token.revoked_at = uow.clock.now()
    owner_type, owner_id = (
        ("agent", token.agent_id) if token.agent_id is not None else ("customer", token.customer_id)
    )
    assert owner_id is not None
    audit.record(
        uow,
        entity_type=owner_type,
        entity_id=owner_id,
        action="api_token.revoked",
        actor=actor_of(actor),
        via=via,
        changes=[Change("api_token", token.display_prefix, None)],
    )


# --- cookie sessions ----------------------------------------------------------------------


def start_login_session(
    uow: UnitOfWork, *, principal: Principal, lifetime: timedelta
) -> tuple[str, str]:
    """Open a session for a signed-in principal; return (cookie value, CSRF token)."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = uow.clock.now()
    uow.session.add(
        LoginSession(
            session_hash=_digest(cookie),
            csrf_token=csrf,
            agent_id=principal.id if principal.is_agent else None,
            customer_id=principal.id if principal.is_customer else None,
            created_at=now,
            expires_at=now + lifetime,
            last_seen_at=now,
        )
    )
    return cookie, csrf


def principal_for_login_session(uow: UnitOfWork, cookie: str) -> tuple[Principal, str] | None:
    """The principal and CSRF token behind a session cookie, if it is still valid."""
    login = repository.login_session_by_hash(uow.session, _digest(cookie))
    now = uow.clock.now()
    if login is None or login.expires_at <= now:
        return None
    if now - login.last_seen_at > _LAST_USED_RESOLUTION and not uow.read_only:
        login.last_seen_at = now
    if login.agent_id is not None:
        principal = principal_for_agent_id(uow, login.agent_id)
    else:
        assert login.customer_id is not None
        principal = principal_for_customer_id(uow, login.customer_id)
    return None if principal is None else (principal, login.csrf_token)


def end_login_session(uow: UnitOfWork, cookie: str) -> None:
    login = repository.login_session_by_hash(uow.session, _digest(cookie))
    if login is not None:
        uow.session.delete(login)


def end_other_login_sessions(
    uow: UnitOfWork, *, agent_id: int, keep_cookie: str | None, actor: Principal, via: str
) -> int:
    """Sign the agent out everywhere but in the session of ``keep_cookie`` (after they changed
    their password); return how many sessions ended."""
    keep_hash = _digest(keep_cookie) if keep_cookie else None
    ended = repository.delete_other_login_sessions(uow.session, agent_id, keep_hash)
    if ended:
        audit.record(
            uow,
            entity_type="agent",
            entity_id=agent_id,
            action="agent.sessions_ended",
            actor=actor_of(actor),
            via=via,
            changes=[Change("login_sessions", ended, 0)],
        )
    return ended


def purge_expired_login_sessions(uow: UnitOfWork) -> int:
    expired = repository.expired_login_sessions(uow.session, uow.clock.now())
    for login in expired:
        uow.session.delete(login)
    return len(expired)


# --- customers ----------------------------------------------------------------------------


def find_customer_by_identity(uow: UnitOfWork, kind: IdentityKind, value: str) -> Customer | None:
    return repository.customer_by_identity(uow.session, kind.value, normalise_identity(kind, value))


def get_customer(uow: UnitOfWork, customer_id: int) -> Customer:
    customer = uow.session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


def create_customer(
    uow: UnitOfWork,
    *,
    name: str,
    identities: Sequence[tuple[IdentityKind, str]],
    actor: Principal,
    via: str,
    company_id: int | None = None,
    tier: str = "standard",
    locale: str | None = None,
    is_company_admin: bool = False,
) -> Customer:
    cleaned: list[tuple[IdentityKind, str]] = []
    for kind, value in identities:
        if not is_valid_identity(kind, value):
            raise InvalidIdentity(kind=kind.value, value=value)
        normalised = normalise_identity(kind, value)
        if repository.identity(uow.session, kind.value, normalised) is not None:
            raise IdentityAlreadyUsed(kind=kind.value, value=normalised)
        if (kind, normalised) not in cleaned:
            cleaned.append((kind, normalised))
    now = uow.clock.now()
    display_name = name.strip() or (cleaned[0][1].split("@")[0] if cleaned else "")
    customer = Customer(
        name=display_name,
        company_id=company_id,
        tier=tier,
        is_company_admin=is_company_admin,
        locale=locale,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(customer)
    uow.session.flush()
    seen_kinds: set[IdentityKind] = set()
    for kind, normalised in cleaned:
        uow.session.add(
            CustomerIdentity(
                customer_id=customer.id,
                kind=kind.value,
                value=normalised,
                is_primary=kind not in seen_kinds,
                created_at=now,
            )
        )
        seen_kinds.add(kind)
    audit.record(
        uow,
        entity_type="customer",
        entity_id=customer.id,
        action="customer.created",
        actor=actor_of(actor),
        via=via,
        changes=[Change("name", None, customer.name)]
        + [Change(f"identity.{kind.value}", None, value) for kind, value in cleaned],
        new_entity=True,
    )
    uow.publish(CustomerCreated(customer_id=customer.id, via=via))
    return customer


def find_or_create_customer(
    uow: UnitOfWork,
    *,
    kind: IdentityKind,
    value: str,
    name: str,
    actor: Principal,
    via: str,
) -> Customer:
    """Recognise a customer by one identity, or create them with it."""
    if not is_valid_identity(kind, value):
        raise InvalidIdentity(kind=kind.value, value=value)
    found = find_customer_by_identity(uow, kind, value)
    if found is not None:
        return found
    try:
        # A savepoint, so losing a race with a concurrent intake of the same customer costs
        # only this insert: the winner's row is then found and used.
        with uow.session.begin_nested():
            return create_customer(uow, name=name, identities=[(kind, value)], actor=actor, via=via)
    except (IntegrityError, IdentityAlreadyUsed):
        # IdentityAlreadyUsed: the other intake committed between our lookup and our insert.
        found = find_customer_by_identity(uow, kind, value)
        if found is None:
            raise
        return found


def identities_of(uow: UnitOfWork, customer_ids: Sequence[int]) -> Sequence[CustomerIdentity]:
    return repository.identities_of(uow.session, customer_ids)


def customers_by_id(uow: UnitOfWork, customer_ids: Sequence[int]) -> dict[int, Customer]:
    """Several customers in one query (for pages that name many authors), by id."""
    return {c.id: c for c in repository.customers_by_id(uow.session, customer_ids)}


def agents_by_id(uow: UnitOfWork, agent_ids: Sequence[int]) -> dict[int, Agent]:
    """Several agents in one query (active or not), by id."""
    return {a.id: a for a in repository.agents_by_id(uow.session, agent_ids)}


# --- teams (lookups other features need) --------------------------------------------------


def get_team(uow: UnitOfWork, team_id: int) -> Team:
    team = uow.session.get(Team, team_id)
    if team is None:
        raise TeamNotFound(team_id=team_id)
    return team


def is_team_member(uow: UnitOfWork, *, team_id: int, agent_id: int) -> bool:
    return uow.session.get(TeamMembership, (team_id, agent_id)) is not None


def active_agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = uow.session.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise AgentNotFound(agent_id=agent_id)
    return agent
