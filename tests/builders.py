"""Typed builders for test data: explicit, with overrides, returning the saved model."""

from __future__ import annotations

import itertools
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal, Role
from closeloop.accounts.models import Agent, Company, Customer, Team, TeamMembership
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.models import Ticket
from closeloop.tickets.schemas import TicketCreate

_sequence = itertools.count(1)


def make_agent(
    uow: UnitOfWork,
    *,
    role: Role = Role.agent,
    name: str | None = None,
    email: str | None = None,
    password: str | None = "correct horse battery",
    teams: list[Team] | None = None,
) -> Agent:
    number = next(_sequence)
    agent = accounts.create_agent(
        uow,
        name=name or f"Agent {number}",
        email=email or f"agent{number}@example.com",
        role=role,
        password=password,
        actor=SYSTEM,
        via="test",
    )
    for team in teams or []:
        uow.session.add(
            TeamMembership(team_id=team.id, agent_id=agent.id, created_at=uow.clock.now())
        )
    uow.session.flush()
    return agent


def make_team(uow: UnitOfWork, *, name: str | None = None, lead: Agent | None = None) -> Team:
    now = uow.clock.now()
    team = Team(
        name=name or f"Team {next(_sequence)}",
        description="",
        lead_id=lead.id if lead else None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(team)
    uow.session.flush()
    return team


def make_company(uow: UnitOfWork, *, name: str | None = None) -> Company:
    now = uow.clock.now()
    company = Company(name=name or f"Company {next(_sequence)}", created_at=now, updated_at=now)
    uow.session.add(company)
    uow.session.flush()
    return company


def make_customer(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    email: str | None = None,
    company: Company | None = None,
    is_company_admin: bool = False,
    tier: str = "standard",
) -> Customer:
    number = next(_sequence)
    return accounts.create_customer(
        uow,
        name=name or f"Customer {number}",
        identities=[(IdentityKind.email, email or f"customer{number}@example.org")],
        company_id=company.id if company else None,
        is_company_admin=is_company_admin,
        tier=tier,
        actor=SYSTEM,
        via="test",
    )


def make_ticket(
    uow: UnitOfWork,
    *,
    requester: Customer,
    actor: Principal = SYSTEM,
    **fields: Any,
) -> Ticket:
    data = TicketCreate(
        subject=fields.pop("subject", f"Ticket {next(_sequence)}"),
        requester_id=requester.id,
        **fields,
    )
    return tickets.open_ticket(uow, data=data, actor=actor, via="test")


def principal_of(uow: UnitOfWork, agent: Agent) -> Principal:
    principal = accounts.principal_for_agent_id(uow, agent.id)
    assert principal is not None
    return principal


def customer_principal(customer: Customer) -> Principal:
    return accounts.principal_for_customer(customer)


def bearer(uow: UnitOfWork, email: str) -> dict[str, str]:
    _token, secret = accounts.create_api_token(uow, email=email, actor=SYSTEM, via="test")
    return {"Authorization": f"Bearer {secret}"}
