"""The rules of a ticket's life (pure: no database, no clock)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


class TicketStatus(enum.StrEnum):
    new = "new"
    open = "open"
    in_progress = "in_progress"
    pending = "pending"
    resolved = "resolved"
    closed = "closed"


class PendingReason(enum.StrEnum):
    customer = "customer"
    third_party = "third_party"


class TicketType(enum.StrEnum):
    inquiry = "inquiry"
    fault = "fault"
    complaint = "complaint"
    request = "request"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 is the most urgent."""
        return int(self.value[1])


class Channel(enum.StrEnum):
    web = "web"
    portal = "portal"
    email = "email"
    wechat = "wechat"
    api = "api"
    phone = "phone"
    chat = "chat"


class MessageKind(enum.StrEnum):
    customer_message = "customer_message"
    public_reply = "public_reply"
    internal_note = "internal_note"

    @property
    def is_public(self) -> bool:
        return self is not MessageKind.internal_note


class LinkKind(enum.StrEnum):
    related = "related"
    duplicate_of = "duplicate_of"
    parent_of = "parent_of"
    follow_up_of = "follow_up_of"
    merged_into = "merged_into"


# Links a person may create; follow-up and merge links are made by their own use cases.
USER_LINK_KINDS = frozenset({LinkKind.related, LinkKind.duplicate_of, LinkKind.parent_of})

ALLOWED_TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.new: frozenset(
        {TicketStatus.open, TicketStatus.in_progress, TicketStatus.pending, TicketStatus.resolved}
    ),
    TicketStatus.open: frozenset(
        {TicketStatus.in_progress, TicketStatus.pending, TicketStatus.resolved}
    ),
    TicketStatus.in_progress: frozenset(
        {TicketStatus.open, TicketStatus.pending, TicketStatus.resolved}
    ),
    TicketStatus.pending: frozenset(
        {TicketStatus.open, TicketStatus.in_progress, TicketStatus.resolved}
    ),
    # Reopening goes back to open; a resolved ticket is closed by confirmation or by time.
    TicketStatus.resolved: frozenset({TicketStatus.open, TicketStatus.closed}),
    # Closed is final: a follow-up becomes a new ticket linked to this one.
    TicketStatus.closed: frozenset(),
}

STATUS_ORDER: tuple[TicketStatus, ...] = tuple(TicketStatus)
OPEN_STATUSES = frozenset(
    {TicketStatus.new, TicketStatus.open, TicketStatus.in_progress, TicketStatus.pending}
)


def allowed_transitions(current: TicketStatus) -> list[TicketStatus]:
    """The statuses ``current`` may move to, in lifecycle order."""
    targets = ALLOWED_TRANSITIONS[current]
    return [status for status in STATUS_ORDER if status in targets]


def is_transition_allowed(current: TicketStatus, target: TicketStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def status_after_customer_message(current: TicketStatus) -> TicketStatus:
    """A customer writing in wakes the ticket: waiting and solved tickets become open again."""
    if current in (TicketStatus.pending, TicketStatus.resolved):
        return TicketStatus.open
    return current


def status_after_public_reply(current: TicketStatus) -> TicketStatus:
    """An agent's first public answer means somebody is working on it."""
    if current in (TicketStatus.new, TicketStatus.open):
        return TicketStatus.in_progress
    return current


def customer_may_transition(current: TicketStatus, target: TicketStatus) -> bool:
    """Customers confirm a resolution (close) or say it is not solved (reopen)."""
    return current is TicketStatus.resolved and target in (TicketStatus.closed, TicketStatus.open)


_TAG_ALLOWED = re.compile(r"[^\w\-.:/+#]+", re.UNICODE)
MAX_TAG_LENGTH = 64
MAX_TAGS = 30


def normalise_tag(tag: str) -> str:
    """Tags are lower case, without spaces; Chinese characters are kept as they are."""
    return _TAG_ALLOWED.sub("-", tag.strip().lower()).strip("-")[:MAX_TAG_LENGTH].rstrip("-")


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Normalised, without duplicates or empties, in first-seen order."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = normalise_tag(tag)
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def follower_recipients(
    *,
    message_kind: MessageKind,
    agent_follower_ids: Iterable[int],
    customer_follower_ids: Iterable[int],
    author_agent_id: int | None,
    author_customer_id: int | None,
) -> tuple[list[int], list[int]]:
    """Who among the followers is told of a new message: (agent ids, customer ids).

    Agents hear of every message, customers only of public ones; nobody is told of their own.
    """
    agents = sorted({a for a in agent_follower_ids if a != author_agent_id})
    customers: list[int] = []
    if message_kind.is_public:
        customers = sorted({c for c in customer_follower_ids if c != author_customer_id})
    return agents, customers


SortKey = Literal["created_at", "updated_at", "priority", "id", "sla_due_at"]
# The SLA summary states a ticket can carry (written by the sla feature), worst first.
SlaState = Literal["breached", "warning", "running", "paused", "met"]
SLA_STATES: tuple[SlaState, ...] = ("breached", "warning", "running", "paused", "met")


@dataclass(frozen=True, slots=True)
class TicketQuery:
    """What a ticket list asks for: filters, text, sort and the keyset position."""

    statuses: Sequence[str] = ()
    priorities: Sequence[str] = ()
    types: Sequence[str] = ()
    channels: Sequence[str] = ()
    team_ids: Sequence[int] = ()
    assignee_ids: Sequence[int] = ()
    unassigned: bool = False
    requester_ids: Sequence[int] = ()
    company_ids: Sequence[int] = ()
    tags: Sequence[str] = ()
    sla_states: Sequence[str] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    resolved_from: datetime | None = None
    text: str = ""
    sort: SortKey = "created_at"
    descending: bool = True
    after: dict[str, Any] | None = field(default=None)
    limit: int = 25
