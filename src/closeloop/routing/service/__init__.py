"""Use cases of the routing feature. Each checks permission, loads, decides (the pure ``rules``
and ``assigners``), persists, writes the audit trail and publishes events, and never commits.

Callers alias the import: ``from closeloop.routing import service as routing``.
"""

from closeloop.routing.service.assignment import (
    availability_of,
    replace_shifts,
    update_availability,
)
from closeloop.routing.service.feedback import list_feedback
from closeloop.routing.service.intake import triage_ticket
from closeloop.routing.service.pull import pull_next
from closeloop.routing.service.queues import (
    QueueView,
    team_load,
    team_queue,
    ticket_routing,
    triage_queue,
)
from closeloop.routing.service.rules import (
    create_rule,
    delete_rule,
    dry_run,
    get_rule,
    list_rules,
    reorder_rules,
    update_rule,
)
from closeloop.routing.service.teams import (
    read_settings,
    set_team_routing,
    team_routing,
    update_settings,
)
from closeloop.routing.service.transfers import transfer_ticket, transfers_of

__all__ = [
    "QueueView",
    "availability_of",
    "create_rule",
    "delete_rule",
    "dry_run",
    "get_rule",
    "list_feedback",
    "list_rules",
    "pull_next",
    "read_settings",
    "reorder_rules",
    "replace_shifts",
    "set_team_routing",
    "team_load",
    "team_queue",
    "team_routing",
    "ticket_routing",
    "transfer_ticket",
    "transfers_of",
    "triage_queue",
    "triage_ticket",
    "update_availability",
    "update_rule",
    "update_settings",
]
