"""What happened to tickets, for other features to react to (published after commit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TicketOpened:
    ticket_id: int
    channel: str
    team_id: int | None
    assignee_id: int | None
    # The fields the opener gave (``TicketCreate`` names): triage leaves those alone.
    given_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketUpdated:
    ticket_id: int
    fields: tuple[str, ...]
    # The agent who made the change (None for the system and customers): routing learns from
    # agents' corrections.
    actor_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    ticket_id: int
    old_status: str
    new_status: str


@dataclass(frozen=True, slots=True)
class TicketAssigned:
    ticket_id: int
    team_id: int | None
    assignee_id: int | None
    previous_team_id: int | None
    previous_assignee_id: int | None
    actor_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessageAdded:
    ticket_id: int
    message_id: int
    kind: str
    # Followers to tell, already filtered: agents hear of notes too, customers only of public posts.
    agent_follower_ids: tuple[int, ...]
    customer_follower_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TicketsMerged:
    source_ticket_id: int
    survivor_ticket_id: int
