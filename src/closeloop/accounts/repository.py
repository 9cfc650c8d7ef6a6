"""Every query on the accounts tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def organisation(session: Session) -> Organisation | None:
    return session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()


def agent_by_email(session: Session, email: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.email == email)).first()


def agent_with_teams(session: Session, agent_id: int) -> tuple[Agent, set[int], set[int]] | None:
    """The agent, the teams they belong to and the teams they lead, in one round trip."""
    rows = session.execute(
        select(Agent, TeamMembership.team_id)
        .outerjoin(TeamMembership, TeamMembership.agent_id == Agent.id)
        .where(Agent.id == agent_id)
    ).all()
    if not rows:
        return None
    agent = rows[0][0]
    member_of = {row[1] for row in rows if row[1] is not None}
    led = set(session.scalars(select(Team.id).where(Team.lead_id == agent_id)))
    return agent, member_of, led


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def login_session_by_hash(session: Session, session_hash: str) -> LoginSession | None:
    return session.scalars(
        select(LoginSession).where(LoginSession.session_hash == session_hash)
    ).first()


def customer_by_identity(session: Session, kind: str, value: str) -> Customer | None:
    return session.scalars(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(CustomerIdentity.kind == kind, CustomerIdentity.value == value)
    ).first()


def identities_of(session: Session, customer_ids: Sequence[int]) -> Sequence[CustomerIdentity]:
    if not customer_ids:
        return []
    return session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.customer_id, CustomerIdentity.id)
    ).all()


def identity(session: Session, kind: str, value: str) -> CustomerIdentity | None:
    return session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    ).first()


def expired_login_sessions(session: Session, now: datetime) -> Sequence[LoginSession]:
    return session.scalars(select(LoginSession).where(LoginSession.expires_at < now)).all()
