"""Errors of the SLA feature, each with a stable dotted code."""

from __future__ import annotations

from typing import Any

from closeloop.kit.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from closeloop.kit.i18n import _


class CalendarNotFound(NotFound):
    code = "sla.calendar_not_found"
    message = _("Business calendar {calendar_id} does not exist.")


class CalendarDayNotFound(NotFound):
    code = "sla.calendar_day_not_found"
    message = _("Day {day_id} is not in business calendar {calendar_id}.")


class PolicyNotFound(NotFound):
    code = "sla.policy_not_found"
    message = _("SLA policy {policy_id} does not exist.")


class ScheduleNotBundled(NotFound):
    code = "sla.schedule_not_bundled"
    title = _("Holiday schedule not available")
    message = _(
        "closeloop ships no holiday schedule for {region} {year}; import it as a holiday file."
    )


class SlaManagementDenied(PermissionDenied):
    code = "sla.permission_denied"
    message = _("Only administrators change business calendars and SLA policies.")


class SlaReadDenied(PermissionDenied):
    code = "sla.read_denied"
    message = _("Only staff read SLA calendars, policies, clocks and reports.")


class SlaNameUsed(Conflict):
    code = "sla.name_taken"
    title = _("Name already used")
    message = _("The name {name} is already used.")


class CalendarInUse(Conflict):
    code = "sla.calendar_in_use"
    title = _("Business calendar in use")
    message = _(
        "Business calendar {calendar_id} is used by the SLA policies {policies}; "
        "give them another calendar first."
    )


class DefaultCalendarRequired(Conflict):
    code = "sla.default_calendar_required"
    title = _("A default calendar is required")
    message = _(
        "Business calendar {calendar_id} is the default; make another calendar the default first."
    )


class InvalidCalendar(ValidationFailed):
    """Working hours, time zone or days that the business calendar cannot use."""

    code = "sla.invalid_calendar"
    title = _("Invalid business calendar")
    message = _("The business calendar is not valid: {reason}")

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(
            errors=[{"field": field, "code": "invalid_calendar", "message": reason}], reason=reason
        )


class InvalidHolidayFile(ValidationFailed):
    code = "sla.invalid_holiday_file"
    title = _("Invalid holiday file")
    message = _("The holiday file cannot be imported: {reason}")

    def __init__(self, *, reason: str) -> None:
        super().__init__(
            errors=[{"field": "body", "code": "invalid_holiday_file", "message": reason}],
            reason=reason,
        )


class InvalidPolicy(ValidationFailed):
    code = "sla.invalid_policy"
    title = _("Invalid SLA policy")
    message = _("The SLA policy is not valid: {reason}")

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(
            errors=[{"field": field, "code": "invalid_policy", "message": reason}], reason=reason
        )


class InvalidReportRange(DomainError):
    code = "sla.invalid_range"
    http_status = 422
    title = _("Invalid date range")
    message = _("The report range must start before it ends and span at most {days} days.")

    def __init__(self, *, days: int) -> None:
        super().__init__(days=days)

    def extensions(self) -> dict[str, Any]:
        return {
            "errors": [
                {"field": "to", "code": "invalid_range", "message": self.render("en")},
            ]
        }
