"""A small desk for the ticket list tests: two teams, one of each role, tickets in every view.

team A: agent (member), lead (leads and belongs), team B: other (member)
supervisor and admin in no team

a_new        team A, unassigned, new             -> unassigned (A), all open
a_mine       team A, agent, open, P1             -> mine (agent)
b_new        team B, unassigned, new             -> unassigned (B); agent never sees it
a_pending    team A, agent, pending              -> mine, pending
a_warning    team A, lead, in progress, SLA warn -> SLA at risk
a_breached   team A, unassigned, new, breached   -> overdue, unassigned (A)
a_resolved   team A, agent, resolved just now    -> recently resolved
a_old        team A, agent, resolved 8 days ago  -> in no view but "all tickets"
b_closed     team B, other, closed               -> nothing open
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal, Role
from closeloop.accounts.models import Agent, Customer, Team
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketStatus
from closeloop.tickets.models import Ticket
from tests.builders import customer_principal, make_agent, make_customer, make_team, make_ticket

SESSION_COOKIE = "closeloop_session"
_ROW = re.compile(r'<tr data-row="\d+" data-href="/agent/tickets/(\d+)"')
_COUNT = re.compile(r'data-count-for="([^"]+)">([^<]*)</span>')


@dataclass
class World:
    team_a: Team
    team_b: Team
    agent: Agent
    lead: Agent
    other: Agent
    supervisor: Agent
    admin: Agent
    customer: Customer
    tickets: dict[str, Ticket]

    def ids(self, *names: str) -> set[int]:
        return {self.tickets[name].id for name in names}


def set_status(uow: UnitOfWork, ticket: Ticket, status: TicketStatus) -> None:
    tickets.transition(
        uow,
        ticket_id=ticket.id,
        target=status,
        pending_reason=None,
        expected_version=ticket.version,
        actor=SYSTEM,
        via="test",
    )


def build_world(uow: UnitOfWork, clock: FrozenClock) -> World:
    team_a, team_b = make_team(uow, name="Alpha"), make_team(uow, name="Beta")
    agent = make_agent(uow, name="Agnes Agent", teams=[team_a])
    lead = make_agent(uow, name="Lena Lead", teams=[team_a])
    team_a.lead_id = lead.id
    other = make_agent(uow, name="Otto Other", teams=[team_b])
    supervisor = make_agent(uow, name="Sue Supervisor", role=Role.supervisor)
    admin = make_agent(uow, name="Adam Admin", role=Role.admin)
    customer = make_customer(uow, name="Carla Customer")
    # The assertions read the English wording of flash messages and labels.
    for person in (agent, lead, other, supervisor, admin):
        person.locale = "en"
    uow.session.flush()

    def ticket(name: str, **fields: Any) -> Ticket:
        return make_ticket(uow, requester=customer, subject=f"{name} subject", **fields)

    found: dict[str, Ticket] = {}
    found["a_old"] = ticket("a_old", team_id=team_a.id, assignee_id=agent.id)
    set_status(uow, found["a_old"], TicketStatus.resolved)
    clock.advance(timedelta(days=8))
    found["a_new"] = ticket("a_new", team_id=team_a.id)
    found["a_mine"] = ticket("a_mine", team_id=team_a.id, assignee_id=agent.id, priority="P1")
    found["b_new"] = ticket("b_new", team_id=team_b.id, type="fault")
    found["a_pending"] = ticket("a_pending", team_id=team_a.id, assignee_id=agent.id)
    set_status(uow, found["a_pending"], TicketStatus.pending)
    found["a_warning"] = ticket("a_warning", team_id=team_a.id, assignee_id=lead.id)
    set_status(uow, found["a_warning"], TicketStatus.in_progress)
    found["a_breached"] = ticket("a_breached", team_id=team_a.id, tags=["vpn"])
    found["a_resolved"] = ticket("a_resolved", team_id=team_a.id, assignee_id=agent.id)
    set_status(uow, found["a_resolved"], TicketStatus.resolved)
    found["b_closed"] = ticket("b_closed", team_id=team_b.id, assignee_id=other.id)
    set_status(uow, found["b_closed"], TicketStatus.resolved)
    set_status(uow, found["b_closed"], TicketStatus.closed)
    now = clock.now()
    tickets.set_sla_summary(
        uow, ticket_id=found["a_warning"].id, due_at=now + timedelta(minutes=20), state="warning"
    )
    tickets.set_sla_summary(
        uow, ticket_id=found["a_breached"].id, due_at=now - timedelta(hours=1), state="breached"
    )
    tickets.set_sla_summary(
        uow, ticket_id=found["a_mine"].id, due_at=now + timedelta(hours=3), state="running"
    )
    uow.commit()
    return World(team_a, team_b, agent, lead, other, supervisor, admin, customer, found)


def sign_in(client: TestClient, uow: UnitOfWork, principal: Principal) -> str:
    """Start a login session for ``principal`` on ``client``; return its CSRF token."""
    cookie, csrf = accounts.start_login_session(
        uow, principal=principal, lifetime=timedelta(hours=8)
    )
    uow.commit()
    client.cookies.set(SESSION_COOKIE, cookie)
    return csrf


def sign_in_agent(client: TestClient, uow: UnitOfWork, agent: Agent) -> str:
    principal = accounts.principal_for_agent_id(uow, agent.id)
    assert principal is not None
    return sign_in(client, uow, principal)


def sign_in_customer(client: TestClient, uow: UnitOfWork, customer: Customer) -> str:
    return sign_in(client, uow, customer_principal(customer))


def row_ids(html: str) -> list[int]:
    return [int(found) for found in _ROW.findall(html)]


def nav_counts(html: str) -> dict[str, str]:
    return dict(_COUNT.findall(html))
