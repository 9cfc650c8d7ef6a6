"""How a demo conversation unfolds: who answers, what they write, and when.

Agents work Monday to Friday, 09:00–18:00 Beijing time, except on P1 tickets.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from closeloop.accounts.domain import Role
from closeloop.demo.content import (
    AGENT_UPDATES,
    ASK_FOR_INFO,
    CUSTOMER_CHASERS,
    CUSTOMER_REOPENS,
    CUSTOMER_THANKS,
    GREETINGS,
    SIGNATURES,
    THIRD_PARTY_NOTES,
    Scenario,
    Topic,
    fill,
)
from closeloop.demo.organisation import AGENTS, AgentSpec, CustomerSpec
from closeloop.demo.steps import Actor, Assign, Follow, Move, Post, Step, Triage
from closeloop.tickets.domain import (
    Channel,
    MessageKind,
    PendingReason,
    Priority,
    TicketStatus,
)

BEIJING = ZoneInfo("Asia/Shanghai")

_REPLY_CHANNEL: dict[Channel, Channel] = {
    Channel.email: Channel.email,
    Channel.wechat: Channel.wechat,
    Channel.chat: Channel.chat,
    Channel.portal: Channel.portal,
    Channel.web: Channel.email,
    Channel.phone: Channel.email,
    Channel.api: Channel.email,
}
_FIRST_RESPONSE = {
    Priority.P1: (5, 30),
    Priority.P2: (15, 120),
    Priority.P3: (30, 480),
    Priority.P4: (120, 1440),
}
# Final status weights by age of the ticket in days: (up to age, {status: weight}).
_MESSAGE_COUNT_WEIGHTS = (18, 28, 22, 16, 10, 6)  # for 1..6 messages
_AUTO_CLOSE_AFTER = timedelta(days=3)


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


class Story:
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


def message_count(rng: random.Random) -> int:
    return rng.choices(range(1, 7), weights=_MESSAGE_COUNT_WEIGHTS)[0]


def write_conversation(story: Story, rng: random.Random, final: TicketStatus, count: int) -> None:
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
