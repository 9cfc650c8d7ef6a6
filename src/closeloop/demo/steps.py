"""The steps of a demo ticket's story and the plan that holds them (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from closeloop.demo.content import Topic
from closeloop.tickets.domain import (
    Channel,
    LinkKind,
    MessageKind,
    PendingReason,
    Priority,
    TicketStatus,
)

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
