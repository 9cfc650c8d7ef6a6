"""The story of every demo ticket: who opens it, who answers, what status it ends in, and when
each step happens (pure and seeded: the same seed tells the same story).

Agents work Monday to Friday, 09:00–18:00 Beijing time, except on P1 tickets. Older tickets have
mostly been resolved or closed; the last days hold the open work.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from closeloop.accounts.domain import IdentityKind, Role
from closeloop.demo.content import (
    AGENT_UPDATES,
    ASK_FOR_INFO,
    CUSTOMER_CHASERS,
    CUSTOMER_REOPENS,
    CUSTOMER_THANKS,
    GREETINGS,
    SIGNATURES,
    THIRD_PARTY_NOTES,
    TOPICS,
    Scenario,
    Topic,
    fill,
    localised_slots,
    slot_values,
)
from closeloop.demo.organisation import AGENTS, COMPANIES, AgentSpec, CustomerSpec
from closeloop.tickets.domain import (
    Channel,
    LinkKind,
    MessageKind,
    PendingReason,
    Priority,
    TicketStatus,
)

BEIJING = ZoneInfo("Asia/Shanghai")

# An actor in a step: an agent's email, a customer's index, or None for the system.
Actor = str | int | None


@dataclass(frozen=True, slots=True)
class Triage:
    """A dispatcher sets priority, tags and team on a ticket a customer wrote in."""

    at: datetime
    by: str
    priority: Priority
    tags: tuple[str, ...]
    team: str


@dataclass(frozen=True, slots=True)
class Assign:
    at: datetime
    by: str
    team: str
    assignee: str


@dataclass(frozen=True, slots=True)
class Post:
    at: datetime
    by: str | int
    kind: MessageKind
    body: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class Move:
    at: datetime
    by: Actor
    target: TicketStatus
    pending_reason: PendingReason | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    """An agent copies a colleague of the requester (same company) on the ticket."""

    at: datetime
    by: str
    customer: int


@dataclass(frozen=True, slots=True)
class Link:
    """The dispatcher links this ticket to an earlier one (by plan key)."""

    at: datetime
    by: str
    target: int
    kind: LinkKind


@dataclass(frozen=True, slots=True)
class Merge:
    """The ticket was a duplicate: an agent merges it into another (by plan key)."""

    at: datetime
    by: str
    into: int


Step = Triage | Assign | Post | Move | Follow | Link | Merge


@dataclass(frozen=True, slots=True)
class TicketPlan:
    key: int
    created_at: datetime
    customer: int
    channel: Channel
    topic: Topic
    subject: str
    description: str
    # Who opens it: a customer index (portal, web form), None (an intake channel), or an agent
    # email (a phone call taken by that agent, assigned to themselves).
    opener: Actor
    priority: Priority
    tags: tuple[str, ...]
    team: str
    final: TicketStatus
    steps: tuple[Step, ...]
    follow_up_of: int | None = None

    @property
    def opened_by_customer(self) -> bool:
        return isinstance(self.opener, int)


_CHANNEL_WEIGHTS: dict[Channel, int] = {
    Channel.email: 28,
    Channel.wechat: 20,
    Channel.portal: 16,
    Channel.web: 13,
    Channel.phone: 10,
    Channel.api: 7,
    Channel.chat: 6,
}
# How agent replies reach the customer, per intake channel.
_REPLY_CHANNEL: dict[Channel, Channel] = {
    Channel.email: Channel.email,
    Channel.wechat: Channel.wechat,
    Channel.chat: Channel.chat,
    Channel.portal: Channel.portal,
    Channel.web: Channel.email,
    Channel.phone: Channel.email,
    Channel.api: Channel.email,
}
_PRIORITY_WEIGHTS: dict[int, tuple[int, int, int, int]] = {
    -1: (10, 30, 45, 15),
    0: (3, 15, 57, 25),
    1: (1, 6, 48, 45),
}
# (minimum, maximum) minutes to the first public answer, per priority.
_FIRST_RESPONSE = {
    Priority.P1: (5, 30),
    Priority.P2: (15, 120),
    Priority.P3: (30, 480),
    Priority.P4: (120, 1440),
}
# Final status weights by age of the ticket in days: (up to age, {status: weight}).
_FINAL_BY_AGE: tuple[tuple[float, dict[TicketStatus, int]], ...] = (
    (
        2,
        {
            TicketStatus.new: 32,
            TicketStatus.open: 20,
            TicketStatus.in_progress: 22,
            TicketStatus.pending: 10,
            TicketStatus.resolved: 14,
            TicketStatus.closed: 2,
        },
    ),
    (
        7,
        {
            TicketStatus.new: 4,
            TicketStatus.open: 12,
            TicketStatus.in_progress: 18,
            TicketStatus.pending: 16,
            TicketStatus.resolved: 35,
            TicketStatus.closed: 15,
        },
    ),
    (
        21,
        {
            TicketStatus.new: 1,
            TicketStatus.open: 6,
            TicketStatus.in_progress: 7,
            TicketStatus.pending: 9,
            TicketStatus.resolved: 25,
            TicketStatus.closed: 52,
        },
    ),
    (
        10_000,
        {
            TicketStatus.open: 2,
            TicketStatus.in_progress: 2,
            TicketStatus.pending: 3,
            TicketStatus.resolved: 8,
            TicketStatus.closed: 85,
        },
    ),
)
_MESSAGE_COUNT_WEIGHTS = (18, 28, 22, 16, 10, 6)  # for 1..6 messages
# Busy hours in Beijing; nights are quiet but not empty (WeChat and email arrive any time).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 9, 14, 15, 13, 8, 11, 14, 14, 12, 9, 6, 5, 4, 3, 2, 1)
_AUTO_CLOSE_AFTER = timedelta(days=3)
FOLLOW_UPS = 6
MERGES = 1
LINKS = 4


def agents_of(team: str) -> list[AgentSpec]:
    return [a for a in AGENTS if team in a.teams]


def lead_of(team: str) -> AgentSpec:
    return next(a for a in AGENTS if a.leads == team)


def supervisor() -> AgentSpec:
    return next(a for a in AGENTS if a.role is Role.supervisor)


def working_time(at: datetime, rng: random.Random) -> datetime:
    """``at`` if it falls in Beijing office hours on a weekday, else soon after the next start."""
    local = at.astimezone(BEIJING)
    if local.weekday() < 5 and 9 <= local.hour < 18:
        return at
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(9, 0), tzinfo=BEIJING)
    return (start + timedelta(minutes=rng.randint(0, 55), seconds=rng.randint(0, 59))).astimezone(
        at.tzinfo
    )


def _creation_times(
    rng: random.Random, count: int, start: datetime, until: datetime
) -> list[datetime]:
    days = max(1, (until - start).days) + 1  # the last one is today, up to now
    day_weights: list[float] = []
    for offset in range(days):
        weekday = (start + timedelta(days=offset)).astimezone(BEIJING).weekday()
        base = 1.0 if weekday < 5 else (0.35 if weekday == 5 else 0.25)
        day_weights.append(base * (0.85 + 0.3 * offset / days))  # a growing help desk
    times: list[datetime] = []
    latest = until - timedelta(minutes=20)
    while len(times) < count:
        offset = rng.choices(range(days), weights=day_weights)[0]
        day = (start + timedelta(days=offset)).astimezone(BEIJING).date()
        hour = rng.choices(range(24), weights=_HOUR_WEIGHTS)[0]
        local = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), BEIJING)
        at = local.astimezone(start.tzinfo)
        if start < at < latest:
            times.append(at)
    return sorted(times)


class _Story:
    """Writes one ticket's steps, keeping the clock of that ticket."""

    def __init__(
        self,
        rng: random.Random,
        *,
        created_at: datetime,
        customer_index: int,
        customer: CustomerSpec,
        topic: Topic,
        scenario: Scenario,
        channel: Channel,
        priority: Priority,
        assignee: AgentSpec,
        values: dict[str, str],
    ) -> None:
        self.rng = rng
        self.at = created_at
        self.customer_index = customer_index
        self.customer = customer
        self.topic = topic
        self.script = topic.script(customer.locale)
        self.scenario = scenario
        self.locale = customer.locale
        self.channel = channel
        self.priority = priority
        self.assignee = assignee
        self.values = values
        self.steps: list[Step] = []
        # A ticket nobody has triaged has no team: only the dispatcher sees it.
        self.untriaged = False
        self._used: set[str] = set()

    # --- time -------------------------------------------------------------------------

    def _wait(self, low_minutes: float, high_minutes: float, *, agent: bool) -> datetime:
        self.at += timedelta(minutes=self.rng.uniform(low_minutes, high_minutes))
        if agent and self.priority is not Priority.P1:
            self.at = working_time(self.at, self.rng)
        return self.at

    # --- texts ------------------------------------------------------------------------

    def _pick(self, options: Sequence[str], fallback: Sequence[str] = ()) -> str:
        fresh = [o for o in options if o not in self._used]
        fresh = fresh or [o for o in fallback if o not in self._used] or list(options)
        choice = self.rng.choice(fresh)
        self._used.add(choice)
        return choice

    def _fill(self, template: str, agent: AgentSpec | None = None) -> str:
        values = dict(self.values)
        values["name"] = self.customer.name
        values["first"] = self.customer.first_name
        values["agent"] = (agent or self.assignee).name
        return fill(template, values)

    def _agent_text(self, body: str, agent: AgentSpec) -> str:
        greeting = self.rng.choice(GREETINGS[self.locale])
        signature = self.rng.choice(SIGNATURES[self.locale])
        return self._fill(greeting + body + signature, agent)

    # --- steps ------------------------------------------------------------------------

    def triage(self, tags: tuple[str, ...]) -> None:
        at = self._wait(3, 40, agent=True)
        self.steps.append(Triage(at, supervisor().email, self.priority, tags, self.topic.team))

    def assign(self, by: AgentSpec) -> None:
        at = self._wait(2, 30, agent=True)
        self.steps.append(Assign(at, by.email, self.topic.team, self.assignee.email))

    def copy_in(self, colleague: int) -> None:
        at = self._wait(1, 15, agent=True)
        self.steps.append(Follow(at, self.assignee.email, colleague))

    def reply(self, kind: str, *, first: bool) -> None:
        if first:
            low, high = _FIRST_RESPONSE[self.priority]
            at = self._wait(low, high, agent=True)
        else:
            at = self._wait(10, 240, agent=True)
        script, scenario = self.script, self.scenario
        replies = [script.replies[i] for i in scenario.replies]
        pool = {
            "reply": replies,
            "ask": [*ASK_FOR_INFO[self.locale], *replies[:1]],
            "resolve": [script.resolutions[i] for i in scenario.resolutions],
        }[kind]
        body = self._agent_text(self._pick(pool, AGENT_UPDATES[self.locale]), self.assignee)
        self.steps.append(
            Post(
                at,
                self.assignee.email,
                MessageKind.public_reply,
                body,
                _REPLY_CHANNEL[self.channel],
            )
        )

    def customer_says(self, kind: str) -> None:
        at = self._wait(15, 26 * 60, agent=False)
        chasers = CUSTOMER_CHASERS[self.locale]
        pool = {
            "follow_up": [self.script.follow_ups[i] for i in self.scenario.follow_ups],
            "chase": chasers,
            "thanks": CUSTOMER_THANKS[self.locale],
            "reopen": CUSTOMER_REOPENS[self.locale],
        }[kind]
        channel = _REPLY_CHANNEL[self.channel]
        self.steps.append(
            Post(
                at,
                self.customer_index,
                MessageKind.customer_message,
                self._fill(self._pick(pool, chasers)),
                channel,
            )
        )

    def note(self, author: AgentSpec | None = None, *, third_party: bool = False) -> None:
        at = self._wait(5, 90, agent=True)
        pool = THIRD_PARTY_NOTES[self.locale] if third_party else self.script.notes
        by = author or self.assignee
        self.steps.append(
            Post(
                at,
                by.email,
                MessageKind.internal_note,
                self._fill(self._pick(pool), by),
                Channel.web,
            )
        )

    def move(
        self,
        target: TicketStatus,
        *,
        by: Actor | None = None,
        reason: PendingReason | None = None,
        after: tuple[float, float] = (1, 20),
        agent: bool = True,
    ) -> None:
        at = self._wait(*after, agent=agent)
        actor = self.assignee.email if by is None and agent else by
        self.steps.append(Move(at, actor, target, reason))

    def close(self) -> None:
        if self.rng.random() < 0.45:
            self.move(TicketStatus.closed, by=self.customer_index, after=(60, 48 * 60), agent=False)
        else:
            self.at += _AUTO_CLOSE_AFTER
            self.steps.append(Move(self.at, None, TicketStatus.closed))


def _message_count(rng: random.Random) -> int:
    return rng.choices(range(1, 7), weights=_MESSAGE_COUNT_WEIGHTS)[0]


def _write_conversation(story: _Story, rng: random.Random, final: TicketStatus, count: int) -> None:
    """Append messages and status moves so the ticket has ``count`` messages and ends in
    ``final``. The assignment (if any) has already been written."""
    if final is TicketStatus.new:
        for _ in range(count):
            if rng.random() < 0.6:
                story.customer_says("chase")
            else:
                story.note(supervisor() if story.untriaged else lead_of(story.topic.team))
        return
    # The ending, and how many messages it needs.
    endings: dict[TicketStatus, int] = {
        TicketStatus.open: 2,
        TicketStatus.in_progress: 1,
        TicketStatus.pending: 1,
        TicketStatus.resolved: 1,
        TicketStatus.closed: 1,
    }
    if final is TicketStatus.open and count == 1:
        if rng.random() < 0.5:
            story.note()
        else:
            story.customer_says("chase")
        return
    thanks = final is TicketStatus.closed and count >= 2 and rng.random() < 0.5
    reopened = final in (TicketStatus.resolved, TicketStatus.closed) and count >= 4
    reopened = reopened and rng.random() < 0.25
    needed = endings[final] + (1 if thanks else 0) + (2 if reopened else 0)
    spare = count - needed
    first = True
    while spare > 0:
        if spare >= 2 and rng.random() < 0.65:
            if rng.random() < 0.4:
                story.reply("ask", first=first)
                story.move(TicketStatus.pending, reason=PendingReason.customer, after=(1, 5))
            else:
                story.reply("reply", first=first)
            story.customer_says("follow_up")
            spare -= 2
        else:
            story.note()
            spare -= 1
        first = False
    if final is TicketStatus.open:
        story.reply("ask", first=first)
        story.move(TicketStatus.pending, reason=PendingReason.customer, after=(1, 5))
        story.customer_says("follow_up")
    elif final is TicketStatus.in_progress:
        story.reply("reply", first=first)
    elif final is TicketStatus.pending:
        story.reply("ask", first=first)
        if rng.random() < 0.3:
            story.move(TicketStatus.pending, reason=PendingReason.third_party, after=(1, 5))
        else:
            story.move(TicketStatus.pending, reason=PendingReason.customer, after=(1, 5))
    else:
        if reopened:
            story.reply("resolve", first=first)
            story.move(TicketStatus.resolved, after=(1, 30))
            story.customer_says("reopen")
            first = False
        story.reply("resolve", first=first)
        if thanks:
            story.customer_says("thanks")
        story.move(TicketStatus.resolved, after=(1, 30))
        if final is TicketStatus.closed:
            story.close()


def _final_status(rng: random.Random, age_days: float) -> TicketStatus:
    for limit, weights in _FINAL_BY_AGE:
        if age_days <= limit:
            return rng.choices(list(weights), weights=list(weights.values()))[0]
    raise AssertionError("the last age limit covers every age")


def _priority(rng: random.Random, topic: Topic, customer: CustomerSpec) -> Priority:
    ranks = rng.choices((1, 2, 3, 4), weights=_PRIORITY_WEIGHTS[topic.urgency])[0]
    if customer.tier == "vip" and ranks > 1 and rng.random() < 0.3:
        ranks -= 1
    return Priority(f"P{ranks}")


def _channel(rng: random.Random, customer: CustomerSpec) -> Channel:
    allowed = dict(_CHANNEL_WEIGHTS)
    if not customer.has(IdentityKind.wechat_openid):
        allowed.pop(Channel.wechat)
    if not customer.has(IdentityKind.email):
        allowed = {c: w for c, w in allowed.items() if c in (Channel.wechat, Channel.phone)}
    return rng.choices(list(allowed), weights=list(allowed.values()))[0]


def _assignee(rng: random.Random, team: str, customer: CustomerSpec) -> AgentSpec:
    members = agents_of(team)
    weights = [
        (3.0 if (customer.locale == "en") == m.speaks_english else 1.0)
        * (0.6 if m.leads == team else 1.0)
        for m in members
    ]
    return rng.choices(members, weights=weights)[0]


def _tags(rng: random.Random, topic: Topic, customer: CustomerSpec) -> tuple[str, ...]:
    tags = [topic.tags[0], *(t for t in topic.tags[1:] if rng.random() < 0.7)]
    if customer.tier == "vip":
        tags.append("vip")
    return tuple(tags)


def _plan_one(
    rng: random.Random,
    *,
    key: int,
    created_at: datetime,
    until: datetime,
    customers: Sequence[CustomerSpec],
    customer_index: int,
    topic: Topic | None = None,
    channel: Channel | None = None,
    subject_prefix: tuple[str, str] | None = None,
    follow_up_of: int | None = None,
) -> TicketPlan:
    customer = customers[customer_index]
    if topic is None:
        topic = rng.choices(TOPICS, weights=[t.weight for t in TOPICS])[0]
    channel = channel or _channel(rng, customer)
    priority = _priority(rng, topic, customer)
    tags = _tags(rng, topic, customer)
    company = COMPANIES[customer.company].name if customer.company is not None else customer.name
    local = created_at.astimezone(BEIJING)
    values = localised_slots(
        slot_values(rng, created_month=local.month, company=company), customer.locale
    )
    script = topic.script(customer.locale)
    scenario = rng.choice(topic.scenarios)
    subject = fill(script.subjects[rng.choice(scenario.subjects)], values)
    if subject_prefix is not None:
        subject = (subject_prefix[0] if customer.locale == "zh_CN" else subject_prefix[1]) + subject
    description = fill(script.descriptions[scenario.description], values)
    assignee = _assignee(rng, topic.team, customer)
    final = _final_status(rng, (until - created_at) / timedelta(days=1))
    if final is TicketStatus.new and channel is Channel.phone:
        # A call is taken by an agent, who owns the ticket from the start.
        channel = Channel.email if customer.has(IdentityKind.email) else Channel.wechat
    opener: Actor
    if channel in (Channel.portal, Channel.web) or follow_up_of is not None:
        opener = customer_index
    elif channel is Channel.phone:
        opener = assignee.email
    else:
        opener = None
    story = _Story(
        rng,
        created_at=created_at,
        customer_index=customer_index,
        customer=customer,
        topic=topic,
        scenario=scenario,
        channel=channel,
        priority=priority,
        assignee=assignee,
        values=values,
    )
    if isinstance(opener, int) and (final is not TicketStatus.new or rng.random() < 0.5):
        story.triage(tags)
    if final is not TicketStatus.new and not isinstance(opener, str):
        lead = lead_of(topic.team)
        story.assign(lead if rng.random() < 0.5 else assignee)
    story.untriaged = isinstance(opener, int) and not story.steps
    colleagues = [
        index
        for index, other in enumerate(customers)
        if other.company is not None and other.company == customer.company and other != customer
    ]
    if final is not TicketStatus.new and colleagues and rng.random() < 0.06:
        story.copy_in(rng.choice(colleagues))
    _write_conversation(story, rng, final, _message_count(rng))
    steps = _fit(story.steps, created_at, until - timedelta(minutes=2))
    return TicketPlan(
        key=key,
        created_at=created_at,
        customer=customer_index,
        channel=channel,
        topic=topic,
        subject=subject,
        description=description,
        opener=opener,
        priority=priority,
        tags=tags,
        team=topic.team,
        final=final,
        steps=steps,
        follow_up_of=follow_up_of,
    )


def _fit(steps: list[Step], created_at: datetime, limit: datetime) -> tuple[Step, ...]:
    """Squeeze the steps proportionally when the last one would fall after ``limit``."""
    if not steps or steps[-1].at <= limit:
        return tuple(steps)
    factor = (limit - created_at) / (steps[-1].at - created_at)
    return tuple(
        dataclasses.replace(step, at=created_at + (step.at - created_at) * factor) for step in steps
    )


def plan_tickets(
    rng: random.Random,
    *,
    customers: Sequence[CustomerSpec],
    start: datetime,
    until: datetime,
    count: int,
) -> list[TicketPlan]:
    """``count`` ticket stories created between ``start`` and ``until``, oldest first."""
    base_count = count - FOLLOW_UPS - MERGES
    # A few customers write a lot, most write now and then.
    customer_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(customers))]
    rng.shuffle(customer_weights)
    keys = itertools.count()
    plans: list[TicketPlan] = []
    for created_at in _creation_times(rng, base_count, start, until):
        customer_index = rng.choices(range(len(customers)), weights=customer_weights)[0]
        plans.append(
            _plan_one(
                rng,
                key=next(keys),
                created_at=created_at,
                until=until,
                customers=customers,
                customer_index=customer_index,
            )
        )
    closed = [
        p
        for p in plans
        if p.final is TicketStatus.closed and p.steps[-1].at < until - timedelta(days=6)
    ]
    for original in rng.sample(closed, min(FOLLOW_UPS, len(closed))):
        created_at = original.steps[-1].at + timedelta(hours=rng.uniform(20, 120))
        plans.append(
            _plan_one(
                rng,
                key=next(keys),
                created_at=created_at,
                until=until,
                customers=customers,
                customer_index=original.customer,
                topic=original.topic,
                channel=Channel.portal,
                subject_prefix=("后续：", "Follow-up: "),
                follow_up_of=original.key,
            )
        )
    _add_duplicates(rng, plans, keys, until)
    _add_links(rng, plans, until)
    while len(plans) < count:  # not enough candidates for every follow-up (tiny demos)
        created_at = until - timedelta(hours=rng.uniform(1, 24))
        plans.append(
            _plan_one(
                rng,
                key=next(keys),
                created_at=created_at,
                until=until,
                customers=customers,
                customer_index=rng.randrange(len(customers)),
            )
        )
    plans.sort(key=lambda p: (p.created_at, p.key))
    return plans


def schedule(plans: Sequence[TicketPlan]) -> list[tuple[datetime, int, int]]:
    """Every step of every plan as ``(at, plan position, step number)`` in time order; step
    number -1 is the opening of the ticket."""
    events: list[tuple[datetime, int, int]] = []
    for position, plan in enumerate(plans):
        events.append((plan.created_at, position, -1))
        for number, step in enumerate(plan.steps):
            events.append((step.at, position, number))
    events.sort()
    return events


def _with_step(plan: TicketPlan, step: Step) -> TicketPlan:
    steps = list(plan.steps)
    bisect.insort(steps, step, key=lambda s: s.at)
    return dataclasses.replace(plan, steps=tuple(steps))


def _assignee_of(plan: TicketPlan) -> str | None:
    if isinstance(plan.opener, str):
        return plan.opener
    return next((s.assignee for s in plan.steps if isinstance(s, Assign)), None)


def _resolved_at(plan: TicketPlan) -> datetime | None:
    return next(
        (
            s.at
            for s in plan.steps
            if isinstance(s, Move) and s.target in (TicketStatus.resolved, TicketStatus.closed)
        ),
        None,
    )


def _add_duplicates(
    rng: random.Random, plans: list[TicketPlan], keys: Iterator[int], until: datetime
) -> None:
    """A customer writes the same problem twice (email, then WeChat or back); the assignee
    merges the second ticket into the first."""
    candidates: list[tuple[TicketPlan, str, datetime]] = []
    for plan in plans:
        assignee, assigned = (
            _assignee_of(plan),
            next((s.at for s in plan.steps if isinstance(s, Assign)), None),
        )
        resolved = _resolved_at(plan)
        posts = sum(isinstance(s, Post) for s in plan.steps)
        if (
            assignee is None
            or assigned is None
            or resolved is None
            or posts > 4
            or plan.opened_by_customer
            or plan.channel not in (Channel.email, Channel.wechat)
            or until - plan.created_at < timedelta(days=10)
        ):
            continue
        merge_at = assigned + timedelta(minutes=rng.uniform(5, 30))
        if merge_at + timedelta(hours=1) < resolved:
            candidates.append((plan, assignee, merge_at))
    for original, assignee, merge_at in rng.sample(candidates, min(MERGES, len(candidates))):
        channel = Channel.wechat if original.channel is Channel.email else Channel.email
        created_at = original.created_at + timedelta(minutes=rng.uniform(3, 20))
        plans.append(
            dataclasses.replace(
                original,
                key=next(keys),
                created_at=created_at,
                channel=channel,
                opener=None,
                final=TicketStatus.closed,
                steps=(Merge(max(merge_at, created_at), assignee, original.key),),
                follow_up_of=None,
            )
        )


def _add_links(rng: random.Random, plans: list[TicketPlan], until: datetime) -> None:
    """Tickets about the same problem within two days are related; one outage becomes the
    parent of a later report of it."""
    by_key = {plan.key: position for position, plan in enumerate(plans)}
    merged = {p.key for p in plans if any(isinstance(s, Merge) for s in p.steps)}
    merged |= {s.into for p in plans for s in p.steps if isinstance(s, Merge)}
    ordered = sorted((p for p in plans if p.key not in merged), key=lambda p: p.created_at)
    pairs: list[tuple[TicketPlan, TicketPlan]] = []
    for later_position, later in enumerate(ordered):
        if later.follow_up_of is not None:
            continue
        for earlier in ordered[max(0, later_position - 30) : later_position]:
            same_problem = earlier.topic.key == later.topic.key
            close_in_time = later.created_at - earlier.created_at < timedelta(days=2)
            if same_problem and close_in_time and earlier.customer != later.customer:
                pairs.append((earlier, later))
                break
    used: set[int] = set()
    made = 0
    shuffled = rng.sample(pairs, len(pairs))
    # An outage reported by several customers is the best story for a parent ticket.
    shuffled.sort(key=lambda pair: pair[0].topic.key != "network")
    for earlier, later in shuffled:
        if made == LINKS or earlier.key in used or later.key in used:
            continue
        at = later.created_at + timedelta(minutes=rng.uniform(20, 180))
        ends = [
            s.at for s in later.steps if isinstance(s, Move) and s.target is TicketStatus.closed
        ]
        if at >= until - timedelta(minutes=5) or (ends and at >= ends[0]):
            continue
        kind = LinkKind.parent_of if earlier.topic.key == "network" else LinkKind.related
        # "Earlier is the parent of later" is made on the earlier ticket; "related" on the later.
        source, target = (earlier, later) if kind is LinkKind.parent_of else (later, earlier)
        if kind is LinkKind.parent_of and at >= (_resolved_at(earlier) or until):
            kind, source, target = LinkKind.related, later, earlier
        position = by_key[source.key]
        plans[position] = _with_step(
            plans[position], Link(at, supervisor().email, target.key, kind)
        )
        used.update((earlier.key, later.key))
        made += 1
