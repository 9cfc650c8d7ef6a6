"""Fixtures of the SLA tests: the bus with the SLA reactions, the default desk, a team.

The ``clock`` fixture starts on Wednesday 2026-11-25 02:00 UTC, 10:00 in Shanghai: inside the
7x12 desk's hours (09:00-21:00), so a P1 ticket opened then is due for a first response 15
business minutes later, at 02:15 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.builders import make_agent, make_customer, make_team

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.models import Agent, Customer, Team, TeamMembership
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.sla import service as sla
from closeloop.sla.models import EscalationFiring, TicketSlaClock
from closeloop.sla.schemas import SeedResult
from closeloop.wiring import subscribe_notifications, subscribe_sla

MINUTE = timedelta(minutes=1)


@pytest.fixture
def sla_bus(bus: EventBus) -> EventBus:
    """The test bus with the reactions ``create_app`` subscribes: SLA clocks, notifications."""
    subscribe_sla(bus)
    subscribe_notifications(bus)
    return bus


@pytest.fixture
def desk(sla_bus: EventBus, make_uow: Callable[[], UnitOfWork]) -> SeedResult:
    """The default SLA (7x12 Asia/Shanghai with the 2026 CN holidays, the default policy)."""
    with make_uow() as uow:
        seeded = sla.seed_default_sla(uow, actor=SYSTEM)
        uow.commit()
    return seeded


@dataclass(frozen=True)
class Staff:
    team: Team
    lead: Agent
    assignee: Agent
    manager: Agent
    customer: Customer


@pytest.fixture
def staff(make_uow: Callable[[], UnitOfWork]) -> Staff:
    """A team with its lead and one agent, a supervisor (the manager), a customer."""
    with make_uow() as uow:
        lead = make_agent(uow, password=None)
        team = make_team(uow, lead=lead)
        assignee = make_agent(uow, password=None, teams=[team])
        manager = make_agent(uow, role=Role.supervisor, password=None)
        customer = make_customer(uow)
        uow.session.add(
            TeamMembership(team_id=team.id, agent_id=lead.id, created_at=uow.clock.now())
        )
        uow.commit()
    return Staff(team=team, lead=lead, assignee=assignee, manager=manager, customer=customer)


def clocks_of(uow: UnitOfWork, ticket_id: int) -> dict[str, TicketSlaClock]:
    uow.session.expire_all()
    rows = uow.session.scalars(select(TicketSlaClock).where(TicketSlaClock.ticket_id == ticket_id))
    return {row.kind: row for row in rows}


def firings_of(uow: UnitOfWork, ticket_id: int) -> list[tuple[str, int, str, str]]:
    """(kind, step, action, outcome) of every fired step, in order."""
    uow.session.expire_all()
    rows = uow.session.scalars(
        select(EscalationFiring)
        .where(EscalationFiring.ticket_id == ticket_id)
        .order_by(EscalationFiring.kind, EscalationFiring.step_position)
    )
    return [(r.kind, r.step_position, r.action, r.outcome) for r in rows]


def sla_timeline(uow: UnitOfWork, ticket_id: int) -> list[tuple[str, str | None]]:
    """(action, field) of the ticket's SLA audit rows, in order."""
    return [
        (row.action, row.field)
        for row in audit.timeline(uow, entity_type="ticket", entity_id=ticket_id)
        if row.action.startswith("sla.")
    ]


def advance(clock: FrozenClock, minutes: float) -> None:
    clock.advance(timedelta(minutes=minutes))
