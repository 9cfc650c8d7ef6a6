"""Errors of the routing feature, each with a stable dotted code."""

from __future__ import annotations

from closeloop.kit.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from closeloop.kit.i18n import _


class RuleNotFound(NotFound):
    code = "routing.rule_not_found"
    message = _("Routing rule {rule_id} does not exist.")


class InvalidRule(ValidationFailed):
    code = "routing.invalid_rule"
    title = _("Invalid routing rule")
    message = _("The routing rule cannot be saved; the errors say what to change.")


class RuleOrderMismatch(ValidationFailed):
    code = "routing.rule_order_mismatch"
    title = _("Incomplete rule order")
    message = _("The new order must name every routing rule exactly once.")


class InvalidShift(ValidationFailed):
    code = "routing.invalid_shift"
    title = _("Invalid shift")
    message = _("A shift is not valid; the errors say which one.")


class RoutingRulesDenied(PermissionDenied):
    code = "routing.rules_denied"
    message = _("Only administrators change routing rules and routing settings.")


class TeamRoutingDenied(PermissionDenied):
    code = "routing.team_denied"
    message = _("Only the team's lead or an administrator changes how its tickets are assigned.")


class AvailabilityDenied(PermissionDenied):
    code = "routing.availability_denied"
    message = _(
        "Agents set their own status; a lead of one of their teams or an administrator sets "
        "capacity and shifts."
    )


class QueueDenied(PermissionDenied):
    code = "routing.queue_denied"
    message = _("You may see only the queues of your own teams.")


class PullDenied(PermissionDenied):
    code = "routing.pull_denied"
    message = _("Only agents take tickets from a queue.")


class AtCapacity(Conflict):
    code = "routing.at_capacity"
    title = _("At your maximum")
    message = _(
        "You already hold {open_tickets} open tickets, your maximum. Finish one before taking "
        "another."
    )


class AlreadyWithTeam(DomainError):
    code = "routing.already_with_team"
    http_status = 409
    title = _("Already with this team")
    message = _("Ticket {number} is already with this team.")
