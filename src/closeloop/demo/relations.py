"""Tickets that belong together: a duplicate merged into the first report, and links
between reports of the same problem."""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from closeloop.demo.conversation import supervisor
from closeloop.demo.steps import Assign, Link, Merge, Move, Post, Step, TicketPlan
from closeloop.tickets.domain import Channel, LinkKind, TicketStatus

MERGES = 1
LINKS = 4


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


def add_duplicates(
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


def add_links(rng: random.Random, plans: list[TicketPlan], until: datetime) -> None:
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
