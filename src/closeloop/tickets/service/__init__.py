"""Use cases of the tickets feature. Each checks permission, loads, applies the domain rules,
persists, writes the audit trail and publishes events, and never commits."""

from closeloop.tickets.service.messages import add_message, list_messages
from closeloop.tickets.service.open import open_follow_up, open_ticket
from closeloop.tickets.service.read import get_ticket, list_tickets, timeline
from closeloop.tickets.service.update import assign, transition, update_fields

__all__ = [
    "add_message",
    "assign",
    "get_ticket",
    "list_messages",
    "list_tickets",
    "open_follow_up",
    "open_ticket",
    "timeline",
    "transition",
    "update_fields",
]
