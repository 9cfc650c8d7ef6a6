"""Seed the demo organisation through the ordinary use cases.

The unit of work must carry a :class:`~closeloop.kit.clock.FrozenClock`. The seed moves it back
to the start of the story and forward through every step, in time order, so each timestamp and
each audit row says when it happened; it leaves the clock where it found it. Nothing is
committed here: the caller commits the whole demo at once (or rolls it back).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork
from closeloop.demo.organisation import (
    AGENTS,
    COMPANIES,
    DEMO_PASSWORD,
    SKILLS,
    TEAMS,
    CustomerSpec,
    build_customers,
)
from closeloop.demo.steps import (
    Assign,
    Follow,
    Link,
    Merge,
    Move,
    Post,
    Step,
    TicketPlan,
    Triage,
)
from closeloop.demo.timeline import plan_tickets, schedule
from closeloop.kit.clock import FrozenClock
from closeloop.sla import service as sla
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Channel, MessageKind, TicketStatus
from closeloop.tickets.schemas import MessageCreate, TicketCreate, TicketUpdate

DEFAULT_SEED = 20261125
TICKET_COUNT = 500
DAYS = 60
# The organisation is set up a while before the first ticket arrives.
_SET_UP_BEFORE = timedelta(days=DAYS + 14)
VIA = "cli:demo seed"
_INTAKE_VIA: dict[Channel, str] = {
    Channel.email: "demo:channel:email",
    Channel.wechat: "demo:channel:wechat",
    Channel.chat: "demo:channel:chat",
    Channel.api: "demo:api:POST /api/v1/tickets",
    Channel.portal: "demo:web:portal",
    Channel.web: "demo:web:form",
    Channel.phone: "demo:web:agent",
}
_AGENT_VIA = "demo:web:agent"
_AUTO_CLOSE_VIA = "demo:job:tickets.auto_close_resolved"


# Told (steps done, steps in all) as the story advances.
Progress = Callable[[int, int], None]


class _Versioned(Protocol):
    """What the seed keeps of a ticket between steps."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...

    @property
    def status(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    role: str
    name: str
    locale: str
    teams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    teams: int
    agents: int
    skills: int
    companies: int
    customers: int
    tickets: int
    messages: int
    follow_ups: int
    links: int
    merges: int
    first_ticket_at: datetime
    last_ticket_at: datetime
    statuses: dict[str, int]
    logins: tuple[DemoLogin, ...]


class _Seeder:
    def __init__(self, uow: UnitOfWork, clock: FrozenClock, rng: random.Random) -> None:
        self.uow = uow
        self.clock = clock
        self.rng = rng
        self.agent_ids: dict[str, int] = {}
        self.agents: dict[str, Principal] = {}
        self.team_ids: dict[str, int] = {}
        self.customer_ids: list[int] = []
        self.customers: list[Principal] = []
        self.tickets: dict[int, _Versioned] = {}
        self.ticket_by_key: dict[int, int] = {}

    def _tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    # --- the organisation -------------------------------------------------------------

    def set_up_staff(self) -> None:
        admin_spec, *others = AGENTS
        admin = accounts.create_agent(
            self.uow,
            name=admin_spec.name,
            email=admin_spec.email,
            role=admin_spec.role,
            password=DEMO_PASSWORD,
            locale=admin_spec.locale,
            is_senior=admin_spec.is_senior,
            actor=SYSTEM,
            via=VIA,
        )
        self.agent_ids[admin.email] = admin.id
        admin_principal = self._agent_principal(admin.id)
        for spec in others:
            self._tick(self.rng.uniform(60, 900))
            agent = accounts.create_agent(
                self.uow,
                name=spec.name,
                email=spec.email,
                role=spec.role,
                password=DEMO_PASSWORD,
                locale=spec.locale,
                is_senior=spec.is_senior,
                actor=admin_principal,
                via=VIA,
            )
            self.agent_ids[agent.email] = agent.id
        for team_spec in TEAMS:
            self._tick(self.rng.uniform(30, 300))
            lead = next(a for a in AGENTS if a.leads == team_spec.key)
            team = management.create_team(
                self.uow,
                name=team_spec.name,
                description=team_spec.description,
                email=team_spec.email,
                lead_id=self.agent_ids[lead.email],
                actor=admin_principal,
                via=VIA,
            )
            self.team_ids[team_spec.key] = team.id
            for member in AGENTS:
                if team_spec.key in member.teams:
                    self._tick()
                    management.add_team_member(
                        self.uow,
                        team_id=team.id,
                        agent_id=self.agent_ids[member.email],
                        actor=admin_principal,
                        via=VIA,
                    )
        skill_ids: dict[str, int] = {}
        for skill_spec in SKILLS:
            self._tick(self.rng.uniform(10, 60))
            skill = management.create_skill(
                self.uow,
                name=skill_spec.name,
                description=skill_spec.description,
                actor=admin_principal,
                via=VIA,
            )
            skill_ids[skill_spec.key] = skill.id
        for spec in AGENTS:
            for key, level in spec.skills.items():
                self._tick()
                management.set_agent_skill(
                    self.uow,
                    agent_id=self.agent_ids[spec.email],
                    skill_id=skill_ids[key],
                    level=level,
                    actor=admin_principal,
                    via=VIA,
                )
        for spec in AGENTS:
            self.agents[spec.email] = self._agent_principal(self.agent_ids[spec.email])

    def set_up_customers(self, customers: list[CustomerSpec]) -> None:
        admin = self.agents[AGENTS[0].email]
        company_ids: list[int] = []
        self._tick(3600 * 20)
        for spec in COMPANIES:
            self._tick(self.rng.uniform(20, 120))
            company = management.create_company(
                self.uow,
                name=spec.name,
                domain=spec.domain,
                tier=spec.tier,
                notes=spec.notes,
                actor=admin,
                via=VIA,
            )
            company_ids.append(company.id)
        self._tick(3600)
        for customer_spec in customers:
            self._tick()
            customer = accounts.create_customer(
                self.uow,
                name=customer_spec.name,
                identities=list(customer_spec.identities),
                company_id=(
                    company_ids[customer_spec.company]
                    if customer_spec.company is not None
                    else None
                ),
                tier=customer_spec.tier,
                locale=customer_spec.locale,
                is_company_admin=customer_spec.is_company_admin,
                actor=admin,
                via="demo:import",
            )
            self.customer_ids.append(customer.id)
            self.customers.append(accounts.principal_for_customer(customer))

    def _agent_principal(self, agent_id: int) -> Principal:
        principal = accounts.principal_for_agent_id(self.uow, agent_id)
        assert principal is not None
        return principal

    # --- the tickets ------------------------------------------------------------------

    def _actor(self, who: str | int | None) -> Principal:
        if who is None:
            return SYSTEM
        if isinstance(who, int):
            return self.customers[who]
        return self.agents[who]

    def open(self, position: int, plan: TicketPlan) -> None:
        via = _INTAKE_VIA[plan.channel]
        if plan.opened_by_customer:
            data = TicketCreate(
                subject=plan.subject,
                description=plan.description,
                type=plan.topic.ticket_type,
                channel=plan.channel,
            )
            actor = self._actor(plan.opener)
            if plan.follow_up_of is not None:
                ticket = tickets.open_follow_up(
                    self.uow,
                    closed_ticket_id=self.ticket_by_key[plan.follow_up_of],
                    data=data,
                    actor=actor,
                    via=via,
                )
            else:
                ticket = tickets.open_ticket(self.uow, data=data, actor=actor, via=via)
        else:
            assignee = self.agent_ids[plan.opener] if isinstance(plan.opener, str) else None
            data = TicketCreate(
                subject=plan.subject,
                description=plan.description,
                type=plan.topic.ticket_type,
                priority=plan.priority,
                channel=plan.channel,
                requester_id=self.customer_ids[plan.customer],
                team_id=self.team_ids[plan.team],
                assignee_id=assignee,
                tags=list(plan.tags),
            )
            ticket = tickets.open_ticket(
                self.uow, data=data, actor=self._actor(plan.opener), via=via
            )
        self.tickets[position] = ticket
        self.ticket_by_key[plan.key] = ticket.id

    def step(self, position: int, step: Step) -> None:
        ticket = self.tickets[position]
        if isinstance(step, Triage):
            self.tickets[position] = tickets.update_fields(
                self.uow,
                ticket_id=ticket.id,
                data=TicketUpdate(
                    priority=step.priority, tags=list(step.tags), team_id=self.team_ids[step.team]
                ),
                expected_version=ticket.version,
                actor=self.agents[step.by],
                via=_AGENT_VIA,
            )
        elif isinstance(step, Assign):
            self.tickets[position] = tickets.assign(
                self.uow,
                ticket_id=ticket.id,
                team_id=self.team_ids[step.team],
                assignee_id=self.agent_ids[step.assignee],
                expected_version=ticket.version,
                actor=self.agents[step.by],
                via=_AGENT_VIA,
            )
        elif isinstance(step, Post):
            author = self._actor(step.by)
            if step.kind is MessageKind.customer_message:
                data = MessageCreate(body=step.body)
                via = _INTAKE_VIA.get(step.channel, _AGENT_VIA)
            else:
                data = MessageCreate(kind=step.kind, body=step.body)
                via = _AGENT_VIA
            tickets.add_message(
                self.uow,
                ticket_id=ticket.id,
                data=data,
                actor=author,
                via=via,
                channel=step.channel,
            )
        elif isinstance(step, Follow):
            tickets.add_follower(
                self.uow,
                ticket_id=ticket.id,
                customer_id=self.customer_ids[step.customer],
                actor=self.agents[step.by],
                via=_AGENT_VIA,
            )
        elif isinstance(step, Link):
            tickets.link_tickets(
                self.uow,
                ticket_id=ticket.id,
                target_ticket_id=self.ticket_by_key[step.target],
                kind=step.kind,
                actor=self.agents[step.by],
                via=_AGENT_VIA,
            )
        elif isinstance(step, Merge):
            tickets.merge_tickets(
                self.uow,
                source_ticket_id=ticket.id,
                into_ticket_id=self.ticket_by_key[step.into],
                expected_version=ticket.version,
                actor=self.agents[step.by],
                via=_AGENT_VIA,
                channel=Channel.web,
            )
        elif isinstance(step, Move):
            via = _AGENT_VIA
            if step.by is None:
                via = _AUTO_CLOSE_VIA
            elif isinstance(step.by, int):
                via = _INTAKE_VIA[Channel.portal]
            self.tickets[position] = tickets.transition(
                self.uow,
                ticket_id=ticket.id,
                target=step.target,
                pending_reason=step.pending_reason,
                expected_version=ticket.version,
                actor=self._actor(step.by),
                via=via,
            )

    def run_story(self, plans: list[TicketPlan], on_progress: Progress | None) -> None:
        events = schedule(plans)
        for done, (at, position, number) in enumerate(events, start=1):
            if on_progress is not None and (done % 100 == 0 or done == len(events)):
                on_progress(done, len(events))
            self.clock.set(at)
            plan = plans[position]
            if number < 0:
                self.open(position, plan)
            else:
                self.step(position, plan.steps[number])
        for position, plan in enumerate(plans):
            status = self.tickets[position].status
            assert status == plan.final.value, (plan.key, status, plan.final)


def has_agents(uow: UnitOfWork) -> bool:
    """Whether anybody works here already (``demo seed --if-empty`` then does nothing)."""
    return bool(management.list_agents(uow, actor=SYSTEM, limit=1).items)


def seed_demo(
    uow: UnitOfWork,
    *,
    random_seed: int | None = None,
    ticket_count: int = TICKET_COUNT,
    on_progress: Progress | None = None,
) -> DemoSummary:
    """Create the demo organisation and its last ``DAYS`` days of tickets, ending now."""
    clock = uow.clock
    if not isinstance(clock, FrozenClock):
        raise TypeError("seed_demo needs a unit of work with a FrozenClock")
    until = clock.now()
    start = until - timedelta(days=DAYS)
    rng = random.Random(DEFAULT_SEED if random_seed is None else random_seed)
    customer_specs = build_customers(rng)
    plans = plan_tickets(
        rng, customers=customer_specs, start=start, until=until, count=ticket_count
    )
    seeder = _Seeder(uow, clock, rng)
    clock.set(until - _SET_UP_BEFORE)
    try:
        seeder.set_up_staff()
        sla.seed_default_sla(uow, actor=SYSTEM, via=VIA)
        seeder.set_up_customers(customer_specs)
        seeder.run_story(plans, on_progress)
    finally:
        clock.set(until)
    statuses = Counter(plan.final.value for plan in plans)
    return DemoSummary(
        teams=len(TEAMS),
        agents=len(AGENTS),
        skills=len(SKILLS),
        companies=len(COMPANIES),
        customers=len(customer_specs),
        tickets=len(plans),
        # A merge adds an internal note to the surviving ticket.
        messages=sum(isinstance(step, Post | Merge) for plan in plans for step in plan.steps),
        follow_ups=sum(plan.follow_up_of is not None for plan in plans),
        links=sum(isinstance(step, Link) for plan in plans for step in plan.steps),
        merges=sum(isinstance(step, Merge) for plan in plans for step in plan.steps),
        first_ticket_at=plans[0].created_at,
        last_ticket_at=plans[-1].created_at,
        statuses={status.value: statuses.get(status.value, 0) for status in TicketStatus},
        logins=tuple(
            DemoLogin(
                email=spec.email,
                password=DEMO_PASSWORD,
                role=spec.role.value + (" (team lead)" if spec.leads else ""),
                name=spec.name,
                locale=spec.locale,
                teams=tuple(t.name for t in TEAMS if t.key in spec.teams),
            )
            for spec in AGENTS
        ),
    )
