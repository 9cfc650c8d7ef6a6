"""Use cases of the tickets feature. Each checks permission, loads, applies the domain rules,
persists, writes the audit trail and publishes events, and never commits."""

from closeloop.tickets.service.attachments import (
    get_attachment,
    open_attachment,
    upload_attachment,
)
from closeloop.tickets.service.followers import add_follower, list_followers, remove_follower
from closeloop.tickets.service.links import link_tickets, list_links, unlink_tickets
from closeloop.tickets.service.merge import merge_tickets
from closeloop.tickets.service.messages import add_message, list_messages, message_attachments
from closeloop.tickets.service.open import open_follow_up, open_ticket
from closeloop.tickets.service.read import get_ticket, list_tickets, timeline
from closeloop.tickets.service.update import assign, transition, update_fields

__all__ = [
    "add_follower",
    "add_message",
    "assign",
    "get_attachment",
    "get_ticket",
    "link_tickets",
    "list_followers",
    "list_links",
    "list_messages",
    "list_tickets",
    "merge_tickets",
    "message_attachments",
    "open_attachment",
    "open_follow_up",
    "open_ticket",
    "remove_follower",
    "timeline",
    "transition",
    "unlink_tickets",
    "update_fields",
    "upload_attachment",
]
