"""Use cases of the SLA feature. Each checks permission, loads, validates, persists, writes
the audit trail and never commits.

Callers alias the import: ``from closeloop.sla import service as sla``.
"""

from closeloop.sla.service.calendars import (
    apply_bundled_schedule,
    create_calendar,
    delete_calendar,
    get_calendar,
    import_holidays,
    list_calendars,
    remove_calendar_day,
    set_calendar_day,
    update_calendar,
)
from closeloop.sla.service.clocks import (
    RECOMPUTE_TASK,
    describe_ticket,
    recompute_after_change,
    recompute_ticket,
    recompute_tickets,
    ticket_sla,
)
from closeloop.sla.service.escalation import ScanResult, check_due_ticket, check_ticket, scan_due
from closeloop.sla.service.policies import (
    create_policy,
    delete_policy,
    get_policy,
    list_policies,
    match_policy,
    reorder_policies,
    update_policy,
)
from closeloop.sla.service.reports import attainment
from closeloop.sla.service.seed import seed_default_sla

__all__ = [
    "RECOMPUTE_TASK",
    "ScanResult",
    "apply_bundled_schedule",
    "attainment",
    "check_due_ticket",
    "check_ticket",
    "create_calendar",
    "create_policy",
    "delete_calendar",
    "delete_policy",
    "describe_ticket",
    "get_calendar",
    "get_policy",
    "import_holidays",
    "list_calendars",
    "list_policies",
    "match_policy",
    "recompute_after_change",
    "recompute_ticket",
    "recompute_tickets",
    "remove_calendar_day",
    "reorder_policies",
    "scan_due",
    "seed_default_sla",
    "set_calendar_day",
    "ticket_sla",
    "update_calendar",
    "update_policy",
]
