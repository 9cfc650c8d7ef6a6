"""The plan of every demo ticket: when it arrives, from whom and through which channel, what it
is about, how urgent it is and what status it ends in (pure and seeded: the same seed tells the
same story). Older tickets have mostly been resolved or closed; the last days hold the open work.
The conversation itself is written by ``conversation``; duplicates and links by ``relations``.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from closeloop.accounts.domain import IdentityKind
from closeloop.demo.content import (
    TOPICS,
    Topic,
    fill,
    localised_slots,
    slot_values,
)
from closeloop.demo.conversation import (
    BEIJING,
    Story,
    agents_of,
    lead_of,
    message_count,
    write_conversation,
)
from closeloop.demo.organisation import COMPANIES, AgentSpec, CustomerSpec
from closeloop.demo.relations import MERGES, add_duplicates, add_links
from closeloop.demo.steps import Actor, Step, TicketPlan
from closeloop.tickets.domain import Channel, Priority, TicketStatus

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
_PRIORITY_WEIGHTS: dict[int, tuple[int, int, int, int]] = {
    -1: (10, 30, 45, 15),
    0: (3, 15, 57, 25),
    1: (1, 6, 48, 45),
}
# (minimum, maximum) minutes to the first public answer, per priority.
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
# Busy hours in Beijing; nights are quiet but not empty (WeChat and email arrive any time).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 9, 14, 15, 13, 8, 11, 14, 14, 12, 9, 6, 5, 4, 3, 2, 1)
FOLLOW_UPS = 6


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
    story = Story(
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
    write_conversation(story, rng, final, message_count(rng))
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
    add_duplicates(rng, plans, keys, until)
    add_links(rng, plans, until)
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
