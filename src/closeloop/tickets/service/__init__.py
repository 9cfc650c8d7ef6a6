"""Use cases of the tickets feature. Each checks permission, loads, applies the domain rules,
persists, writes the audit trail and publishes events, and never commits."""

from closeloop.tickets.service.attachments import (
    attach_file_to_message,
    get_attachment,
    open_attachment,
    upload_attachment,
)
from closeloop.tickets.service.followers import add_follower, list_followers, remove_follower
from closeloop.tickets.service.links import link_tickets, list_links, unlink_tickets
from closeloop.tickets.service.merge import merge_tickets
from closeloop.tickets.service.messages import add_message, list_messages, message_attachments
from closeloop.tickets.service.open import open_follow_up, open_ticket
from closeloop.tickets.service.queue import (
    claim_unassigned,
    open_work_by_assignee,
    pull_candidates,
)
from closeloop.tickets.service.read import (
    count_tickets,
    get_ticket,
    list_tickets,
    settled,
    timeline,
)
from closeloop.tickets.service.sla import set_sla_summary, ticket_for_sla
from closeloop.tickets.service.update import assign, transition, update_fields

__all__ = [
    "add_follower",
    "add_message",
    "assign",
    "attach_file_to_message",
    "claim_unassigned",
    "count_tickets",
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
    "open_work_by_assignee",
    "pull_candidates",
    "remove_follower",
    "set_sla_summary",
    "settled",
    "ticket_for_sla",
    "timeline",
    "transition",
    "unlink_tickets",
    "update_fields",
    "upload_attachment",
]
