"""Typed builders for test data: explicit, with overrides, returning the saved model."""

from __future__ import annotations

import itertools
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal, Role
from closeloop.accounts.models import Agent, Company, Customer, Skill, Team, TeamMembership
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.custom_fields.schemas import CustomFieldCreate
from closeloop.tickets.domain import TicketType
from closeloop.tickets.models import CustomFieldDefinition, Ticket, TicketFollower
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


def make_custom_field(
    uow: UnitOfWork,
    *,
    key: str,
    field_type: FieldType = FieldType.text,
    ticket_type: TicketType | None = None,
    options: list[str] | None = None,
    is_required: bool = False,
    label_en: str | None = None,
) -> CustomFieldDefinition:
    data = CustomFieldCreate(
        key=key,
        label_en=label_en or key.replace("_", " ").capitalize(),
        field_type=field_type,
        ticket_type=ticket_type,
        options=options or [],
        is_required=is_required,
    )
    return custom_fields.create_custom_field(uow, data=data, actor=SYSTEM, via="test")


def make_follower(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    agent: Agent | None = None,
    customer: Customer | None = None,
) -> TicketFollower:
    return tickets.add_follower(
        uow,
        ticket_id=ticket.id,
        agent_id=agent.id if agent else None,
        customer_id=customer.id if customer else None,
        actor=SYSTEM,
        via="test",
    )


def make_skill(uow: UnitOfWork, *, name: str | None = None, description: str = "") -> Skill:
    skill = Skill(
        name=name or f"Skill {next(_sequence)}",
        description=description,
        created_at=uow.clock.now(),
    )
    uow.session.add(skill)
    uow.session.flush()
    return skill
