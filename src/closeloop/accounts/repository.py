"""Every query on the accounts tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from closeloop.accounts.models import (
    Agent,
    AgentSkill,
    ApiToken,
    Company,
    Customer,
    CustomerIdentity,
    LoginSession,
    Organisation,
    Skill,
    Team,
    TeamMembership,
)


def organisation(session: Session) -> Organisation | None:
    return session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()


def agent_by_email(session: Session, email: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.email == email)).first()


def agent_with_teams(session: Session, agent_id: int) -> tuple[Agent, set[int], set[int]] | None:
    """The agent, the teams they belong to and the teams they lead.

    The agent usually sits in the identity map already (loaded with their token), so this is
    one round trip for both team sets.
    """
    agent = session.get(Agent, agent_id)
    if agent is None:
        return None
    memberships = select(TeamMembership.team_id, literal(False).label("leads")).where(
        TeamMembership.agent_id == agent_id
    )
    leads = select(Team.id, literal(True).label("leads")).where(Team.lead_id == agent_id)
    member_of: set[int] = set()
    led: set[int] = set()
    for team_id, is_lead in session.execute(union_all(memberships, leads)):
        (led if is_lead else member_of).add(team_id)
    return agent, member_of, led


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The token, with its agent loaded into the identity map in the same round trip."""
    row = session.execute(
        select(ApiToken, Agent)
        .outerjoin(Agent, Agent.id == ApiToken.agent_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    return None if row is None else row[0]


def token_and_agent_by_hash(
    session: Session, token_hash: str
) -> tuple[ApiToken, Agent | None] | None:
    """The token and its agent (None for a customer's token) in one round trip; the caller
    keeps the agent referenced, so the session's (weak) identity map keeps it for the request."""
    row = session.execute(
        select(ApiToken, Agent)
        .outerjoin(Agent, Agent.id == ApiToken.agent_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    return None if row is None else (row[0], row[1])


def login_session_by_hash(session: Session, session_hash: str) -> LoginSession | None:
    return session.scalars(
        select(LoginSession).where(LoginSession.session_hash == session_hash)
    ).first()


def customer_by_identity(session: Session, kind: str, value: str) -> Customer | None:
    return session.scalars(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(
            CustomerIdentity.kind == kind,
            CustomerIdentity.value == value,
            Customer.merged_into_id.is_(None),
        )
    ).first()


def identities_of(session: Session, customer_ids: Sequence[int]) -> Sequence[CustomerIdentity]:
    if not customer_ids:
        return []
    return session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.customer_id, CustomerIdentity.id)
    ).all()


def customers_by_id(session: Session, customer_ids: Sequence[int]) -> Sequence[Customer]:
    if not customer_ids:
        return []
    return session.scalars(select(Customer).where(Customer.id.in_(sorted(set(customer_ids))))).all()


def agents_by_id(session: Session, agent_ids: Sequence[int]) -> Sequence[Agent]:
    if not agent_ids:
        return []
    return session.scalars(select(Agent).where(Agent.id.in_(sorted(set(agent_ids))))).all()


def identity(session: Session, kind: str, value: str) -> CustomerIdentity | None:
    return session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    ).first()


def expired_login_sessions(session: Session, now: datetime) -> Sequence[LoginSession]:
    return session.scalars(select(LoginSession).where(LoginSession.expires_at < now)).all()


# --- management: rows locked for a change -------------------------------------------------
# ``populate_existing`` so a row already in the session is re-read once the lock is held.


def organisation_for_update(session: Session) -> Organisation | None:
    return session.scalars(
        select(Organisation)
        .order_by(Organisation.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def agent_for_update(session: Session, agent_id: int) -> Agent | None:
    return session.scalars(
        select(Agent)
        .where(Agent.id == agent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def team_for_update(session: Session, team_id: int) -> Team | None:
    return session.scalars(
        select(Team)
        .where(Team.id == team_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def customer_for_update(session: Session, customer_id: int) -> Customer | None:
    return session.scalars(
        select(Customer)
        .where(Customer.id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def company_for_update(session: Session, company_id: int) -> Company | None:
    return session.scalars(
        select(Company)
        .where(Company.id == company_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def active_admin_ids(session: Session, *, for_update: bool = False) -> list[int]:
    """The active admins; locked, two admins demoting each other at once cannot both win."""
    query = select(Agent.id).where(Agent.role == "admin", Agent.is_active.is_(True))
    if for_update:
        query = query.with_for_update()
    return list(session.scalars(query.order_by(Agent.id)))


# --- keyset pages -------------------------------------------------------------------------


def _keyset(
    query: Select[Any],
    columns: Sequence[InstrumentedAttribute[Any]],
    after: Sequence[Any] | None,
    limit: int,
    *,
    descending: bool = False,
) -> Select[Any]:
    """Order by ``columns`` and start after the row whose values are ``after``; one extra row
    is fetched to tell whether another page follows."""
    if after is not None:
        left = tuple_(*columns) if len(columns) > 1 else columns[0]
        right = tuple_(*after) if len(after) > 1 else after[0]
        query = query.where(left < right if descending else left > right)
    ordering = [c.desc() for c in columns] if descending else list(columns)
    return query.order_by(*ordering).limit(limit + 1)


def _split(rows: Sequence[Any], limit: int) -> tuple[list[Any], bool]:
    return list(rows[:limit]), len(rows) > limit


def _prefix_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# --- agents -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentQuery:
    text: str = ""
    role: str | None = None
    is_active: bool | None = None
    team_id: int | None = None
    after: tuple[str, int] | None = None
    limit: int = 25


def agents_page(session: Session, query: AgentQuery) -> tuple[list[Agent], bool]:
    """Agents by name, filtered; ``text`` matches the start of the name or the email."""
    select_agents = select(Agent)
    if query.role is not None:
        select_agents = select_agents.where(Agent.role == query.role)
    if query.is_active is not None:
        select_agents = select_agents.where(Agent.is_active.is_(query.is_active))
    if query.team_id is not None:
        select_agents = select_agents.where(
            exists().where(
                TeamMembership.agent_id == Agent.id, TeamMembership.team_id == query.team_id
            )
        )
    if query.text.strip():
        pattern = _prefix_pattern(query.text.strip().lower())
        select_agents = select_agents.where(
            or_(
                func.lower(Agent.name).like(pattern, escape="\\"),
                Agent.email.like(pattern, escape="\\"),
            )
        )
    rows = session.scalars(
        _keyset(select_agents, [Agent.name, Agent.id], query.after, query.limit)
    ).all()
    return _split(rows, query.limit)


def team_ids_by_agent(session: Session, agent_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {agent_id: [] for agent_id in agent_ids}
    if agent_ids:
        for agent_id, team_id in session.execute(
            select(TeamMembership.agent_id, TeamMembership.team_id)
            .where(TeamMembership.agent_id.in_(agent_ids))
            .order_by(TeamMembership.agent_id, TeamMembership.team_id)
        ):
            found[agent_id].append(team_id)
    return found


def skill_levels_by_agent(session: Session, agent_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    found: dict[int, dict[int, int]] = {agent_id: {} for agent_id in agent_ids}
    if agent_ids:
        for row in session.scalars(select(AgentSkill).where(AgentSkill.agent_id.in_(agent_ids))):
            found[row.agent_id][row.skill_id] = row.level
    return found


def agent_email_taken(session: Session, email: str, *, except_id: int) -> bool:
    return (
        session.scalar(select(exists().where(Agent.email == email, Agent.id != except_id))) is True
    )


# --- API tokens and login sessions --------------------------------------------------------


def tokens_of(
    session: Session,
    *,
    agent_id: int | None = None,
    customer_id: int | None = None,
    active_only: bool = True,
) -> Sequence[ApiToken]:
    owner = (
        ApiToken.agent_id == agent_id
        if agent_id is not None
        else ApiToken.customer_id == customer_id
    )
    query = select(ApiToken).where(owner)
    if active_only:
        query = query.where(ApiToken.revoked_at.is_(None))
    return session.scalars(query.order_by(ApiToken.id)).all()


def delete_login_sessions_of_agent(session: Session, agent_id: int) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.agent_id == agent_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_other_login_sessions(session: Session, agent_id: int, keep_hash: str | None) -> int:
    """End the agent's sessions except the one whose cookie hashes to ``keep_hash``."""
    query = delete(LoginSession).where(LoginSession.agent_id == agent_id)
    if keep_hash is not None:
        query = query.where(LoginSession.session_hash != keep_hash)
    result = session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- teams --------------------------------------------------------------------------------


def teams(session: Session, *, is_active: bool | None = None) -> Sequence[Team]:
    query = select(Team)
    if is_active is not None:
        query = query.where(Team.is_active.is_(is_active))
    return session.scalars(query.order_by(Team.name, Team.id)).all()


def team_name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    """Whether another team has this name, ignoring case (``Billing`` and ``billing`` clash)."""
    condition = func.lower(Team.name) == name.lower()
    if except_id is not None:
        condition = and_(condition, Team.id != except_id)
    return session.scalar(select(exists().where(condition))) is True


def member_ids_by_team(session: Session, team_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {team_id: [] for team_id in team_ids}
    if team_ids:
        for team_id, agent_id in session.execute(
            select(TeamMembership.team_id, TeamMembership.agent_id)
            .where(TeamMembership.team_id.in_(team_ids))
            .order_by(TeamMembership.team_id, TeamMembership.agent_id)
        ):
            found[team_id].append(agent_id)
    return found


# --- skills -------------------------------------------------------------------------------


def skills(session: Session) -> Sequence[Skill]:
    return session.scalars(select(Skill).order_by(Skill.name, Skill.id)).all()


def skill_name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    condition = func.lower(Skill.name) == name.lower()
    if except_id is not None:
        condition = and_(condition, Skill.id != except_id)
    return session.scalar(select(exists().where(condition))) is True


def levels_for_skill(session: Session, skill_id: int) -> dict[int, int]:
    """Agent id → level, for everyone who has this skill."""
    return {
        row.agent_id: row.level
        for row in session.scalars(
            select(AgentSkill).where(AgentSkill.skill_id == skill_id).order_by(AgentSkill.agent_id)
        )
    }


# --- companies ----------------------------------------------------------------------------


def company_name_taken(session: Session, name: str, *, except_id: int | None = None) -> bool:
    condition = func.lower(Company.name) == name.lower()
    if except_id is not None:
        condition = and_(condition, Company.id != except_id)
    return session.scalar(select(exists().where(condition))) is True


def companies_page(
    session: Session, *, text: str, after: tuple[str, int] | None, limit: int
) -> tuple[list[Company], bool]:
    query = select(Company)
    if text.strip():
        pattern = _prefix_pattern(text.strip().lower())
        query = query.where(
            or_(
                func.lower(Company.name).like(pattern, escape="\\"),
                Company.domain.like(pattern, escape="\\"),
            )
        )
    rows = session.scalars(_keyset(query, [Company.name, Company.id], after, limit)).all()
    return _split(rows, limit)


def customer_count_of_company(session: Session, company_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Customer.company_id == company_id)) or 0)


# --- customers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """``exact``: every one of these identities must belong to the customer. ``text``: the
    start of the name, or the start of an email, or any of ``text_identities`` (the search
    text normalised as each kind of identity)."""

    exact: Sequence[tuple[str, str]] = ()
    text: str = ""
    text_identities: Sequence[tuple[str, str]] = ()
    company_id: int | None = None
    after_id: int | None = None
    limit: int = 25


def _has_identity(kind: str, value: str) -> ColumnElement[bool]:
    return exists().where(
        CustomerIdentity.customer_id == Customer.id,
        CustomerIdentity.kind == kind,
        CustomerIdentity.value == value,
    )


def customers_page(session: Session, query: CustomerQuery) -> tuple[list[Customer], bool]:
    """Customers newest first, matching every condition of ``query``; merged ones never."""
    select_customers = select(Customer).where(Customer.merged_into_id.is_(None))
    for kind, value in query.exact:
        select_customers = select_customers.where(_has_identity(kind, value))
    if query.company_id is not None:
        select_customers = select_customers.where(Customer.company_id == query.company_id)
    text = query.text.strip().lower()
    if text:
        pattern = _prefix_pattern(text)
        identity_matches: list[ColumnElement[bool]] = [
            and_(
                CustomerIdentity.kind == "email", CustomerIdentity.value.like(pattern, escape="\\")
            )
        ]
        identity_matches += [
            and_(CustomerIdentity.kind == kind, CustomerIdentity.value == value)
            for kind, value in query.text_identities
        ]
        select_customers = select_customers.where(
            or_(
                func.lower(Customer.name).like(pattern, escape="\\"),
                Customer.id.in_(select(CustomerIdentity.customer_id).where(or_(*identity_matches))),
            )
        )
    after = None if query.after_id is None else (query.after_id,)
    rows = session.scalars(
        _keyset(select_customers, [Customer.id], after, query.limit, descending=True)
    ).all()
    return _split(rows, query.limit)


def identities_of_kind(session: Session, customer_id: int, kind: str) -> Sequence[CustomerIdentity]:
    return session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == kind)
        .order_by(CustomerIdentity.id)
    ).all()


def identity_count(session: Session, customer_id: int) -> int:
    return int(
        session.scalar(select(func.count()).where(CustomerIdentity.customer_id == customer_id)) or 0
    )


# --- merging customers --------------------------------------------------------------------


def move_identities(session: Session, source_id: int, survivor_id: int) -> int:
    """Give every identity of ``source_id`` to ``survivor_id`` (none is primary any more where
    the survivor already has a primary one of its kind); return how many moved."""
    primary_kinds = set(
        session.scalars(
            select(CustomerIdentity.kind).where(
                CustomerIdentity.customer_id == survivor_id, CustomerIdentity.is_primary.is_(True)
            )
        )
    )
    moved = 0
    for identity in session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id == source_id)
        .order_by(CustomerIdentity.id)
    ):
        identity.customer_id = survivor_id
        if identity.kind in primary_kinds:
            identity.is_primary = False
        elif identity.is_primary:
            primary_kinds.add(identity.kind)
        moved += 1
    session.flush()
    return moved


def revoke_customer_credentials(session: Session, customer_id: int, now: datetime) -> int:
    """Revoke the customer's API tokens and end their sessions; return how many tokens."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.customer_id == customer_id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
    session.execute(delete(LoginSession).where(LoginSession.customer_id == customer_id))
    return len(tokens)


def company_by_name(session: Session, name: str) -> Company | None:
    return session.scalars(
        select(Company).where(func.lower(Company.name) == name.lower()).order_by(Company.id)
    ).first()
