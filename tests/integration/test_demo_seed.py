"""`closeloop demo seed`: the demo organisation, written through the use cases, on both DBs."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from closeloop.accounts import service as accounts
from closeloop.accounts.models import (
    Agent,
    AgentSkill,
    Company,
    Customer,
    CustomerIdentity,
    Skill,
    Team,
    TeamMembership,
)
from closeloop.audit import service as audit_service
from closeloop.db.session import UnitOfWork
from closeloop.demo import seed as demo
from closeloop.demo.organisation import DEMO_PASSWORD, build_customers
from closeloop.demo.timeline import plan_tickets
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.domain import Channel, Priority, TicketStatus, TicketType
from closeloop.tickets.models import Message, Ticket, TicketFollower, TicketLink

pytestmark = pytest.mark.slow


def _count(uow: UnitOfWork, model: type[object]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_seed_builds_the_demo_organisation(uow: UnitOfWork, clock: FrozenClock) -> None:
    now = clock.now()
    assert not demo.has_agents(uow)

    summary = demo.seed_demo(uow)
    uow.commit()

    assert clock.now() == now
    assert demo.has_agents(uow)
    counts = {
        model.__name__: _count(uow, model)
        for model in (Team, Agent, Skill, Company, Customer, Ticket, TicketLink)
    }
    assert counts == {
        "Team": 3,
        "Agent": 8,
        "Skill": 7,
        "Company": 10,
        "Customer": 60,
        "Ticket": 500,
        "TicketLink": 11,
    }
    assert (summary.teams, summary.agents, summary.customers, summary.tickets) == (3, 8, 60, 500)
    assert _count(uow, Message) == summary.messages
    assert _count(uow, TeamMembership) == 9
    assert _count(uow, AgentSkill) == 22
    assert _count(uow, TicketFollower) > 0

    tickets = list(uow.session.scalars(select(Ticket)))
    assert {t.channel for t in tickets} == {c.value for c in Channel}
    assert {t.type for t in tickets} == {t.value for t in TicketType}
    assert {t.priority for t in tickets} == {p.value for p in Priority}
    assert {t.status for t in tickets} == {s.value for s in TicketStatus}
    priorities = Counter(t.priority for t in tickets)
    assert priorities["P3"] > priorities["P2"] > priorities["P1"]
    assert priorities["P4"] > priorities["P1"]
    old = [t for t in tickets if t.created_at < now - timedelta(days=21)]
    assert sum(t.status in ("resolved", "closed") for t in old) >= 0.8 * len(old)
    assert {t.status for t in tickets if t.created_at > now - timedelta(days=1)} <= {
        "new",
        "open",
        "in_progress",
        "pending",
        "resolved",
    }

    # Every timestamp lies in the story's 60 days and follows the ticket's creation.
    for ticket in tickets:
        assert now - timedelta(days=60) <= ticket.created_at <= ticket.updated_at <= now
        if ticket.closed_at is not None:
            assert ticket.created_at < ticket.closed_at <= now
    message_rows = uow.session.execute(
        select(Message.ticket_id, Message.created_at, Ticket.created_at).join(
            Ticket, Ticket.id == Message.ticket_id
        )
    ).all()
    assert all(ticket_at <= message_at <= now for _id, message_at, ticket_at in message_rows)
    per_ticket = Counter(row[0] for row in message_rows)
    merged = [t for t in tickets if t.merged_into_id is not None]
    assert [t.status for t in merged] == ["closed"]
    assert all(1 <= per_ticket[t.id] <= 6 for t in tickets if t.merged_into_id is None)
    links = Counter(uow.session.scalars(select(TicketLink.kind)))
    assert links["follow_up_of"] == 6
    assert links["merged_into"] == 1
    assert links["related"] + links["parent_of"] == 4

    # Chinese and English, customers reachable by email, phone and WeChat.
    assert {c.locale for c in uow.session.scalars(select(Customer))} == {"zh_CN", "en"}
    assert {a.locale for a in uow.session.scalars(select(Agent))} == {"zh_CN", "en"}
    kinds = Counter(uow.session.scalars(select(CustomerIdentity.kind)))
    assert set(kinds) == {"email", "phone", "wechat_openid"}
    assert any("打印" in t.subject or "发票" in t.subject for t in tickets)
    assert any("invoice" in t.subject.lower() or "VPN" in t.subject for t in tickets)

    assert audit_service.verify(uow) == {}
    logins = {login.email: login.role for login in summary.logins}
    assert logins["admin@demo.closeloop.dev"] == "admin"
    assert logins["supervisor@demo.closeloop.dev"] == "supervisor"
    principal = accounts.authenticate_password(
        uow, email="admin@demo.closeloop.dev", password=DEMO_PASSWORD
    )
    assert principal.is_admin


def test_same_seed_tells_the_same_story() -> None:
    until = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

    def story(seed: int) -> list[tuple[object, ...]]:
        rng = random.Random(seed)
        customers = build_customers(rng)
        plans = plan_tickets(
            rng, customers=customers, start=until - timedelta(days=60), until=until, count=500
        )
        return [(p.created_at, p.subject, p.final, p.steps) for p in plans]

    assert story(7) == story(7)
    assert story(7) != story(8)


def test_seed_refuses_a_running_clock() -> None:
    with UnitOfWork(sessionmaker()) as unit, pytest.raises(TypeError):
        demo.seed_demo(unit)
