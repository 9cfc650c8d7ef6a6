"""Errors of the tickets feature, each with a stable code."""

from __future__ import annotations

from typing import Any

from closeloop.kit.errors import Conflict, DomainError, NotFound, PermissionDenied
from closeloop.kit.i18n import _


class TicketNotFound(NotFound):
    code = "ticket.not_found"
    message = _("Ticket {ticket_id} does not exist.")


class InvalidTransition(DomainError):
    code = "ticket.invalid_transition"
    http_status = 409
    title = _("Illegal status change")
    message = _(
        "A ticket cannot move from {current} to {target}. Allowed from {current}: {allowed}."
    )

    def __init__(self, *, current: str, target: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(current=current, target=target, allowed=", ".join(allowed) or "-")

    def extensions(self) -> dict[str, Any]:
        return {"allowed": self.allowed}


class TicketClosed(DomainError):
    code = "ticket.closed"
    http_status = 409
    title = _("Ticket closed")
    message = _("Ticket {number} is closed and cannot change. Create a follow-up ticket instead.")


class StaleVersion(Conflict):
    code = "ticket.stale_version"
    title = _("Ticket changed meanwhile")
    message = _(
        "Ticket {number} was changed by someone else (your version {given}, current {current}). "
        "Reload it and apply your change again."
    )

    def __init__(self, *, number: str, given: int, current: int) -> None:
        self.current_version = current
        super().__init__(number=number, given=given, current=current)

    def extensions(self) -> dict[str, Any]:
        return {"current_version": self.current_version}


class TicketMerged(DomainError):
    code = "ticket.merged"
    http_status = 409
    title = _("Ticket merged")
    message = _("Ticket {number} was merged into {survivor}; work on that ticket instead.")


class MergeNotAllowed(DomainError):
    code = "ticket.merge_not_allowed"
    http_status = 409
    title = _("Merge not allowed")
    message = _("Ticket {source} cannot be merged into {target}: {reason}")


class LinkNotAllowed(DomainError):
    code = "ticket.link_not_allowed"
    http_status = 409
    title = _("Link not allowed")
    message = _("This link cannot be created: {reason}")


class AttachmentRejected(DomainError):
    code = "attachment.rejected"
    http_status = 422
    title = _("Attachment refused")
    message = _("The file {filename} was refused: {reason}")


class AttachmentTooLarge(DomainError):
    code = "attachment.too_large"
    http_status = 413
    title = _("Attachment too large")
    message = _("The file {filename} is larger than the limit of {limit} bytes.")


class AttachmentNotFound(NotFound):
    code = "attachment.not_found"
    message = _("Attachment {attachment_id} does not exist.")


class TicketActionDenied(PermissionDenied):
    code = "ticket.permission_denied"
    message = _("You may read this ticket, but you may not {action}.")


class VersionRequired(DomainError):
    code = "ticket.version_required"
    http_status = 428
    title = _("Version required")
    message = _(
        'Changing ticket {number} needs the version you read, as "version" in the body or in '
        "an If-Match header."
    )


class FieldsNotAllowed(PermissionDenied):
    code = "ticket.fields_not_allowed"
    message = _("You may not set these fields: {fields}.")


class RequesterRequired(DomainError):
    code = "ticket.requester_required"
    http_status = 422
    title = _("Requester required")
    message = _("Name the customer: send requester_id or requester with an email.")


class LinkNotFound(NotFound):
    code = "ticket.link_not_found"
    message = _("Ticket {number} has no link {link_id}.")


class FollowerNotFound(NotFound):
    code = "ticket.follower_not_found"
    message = _("Ticket {number} has no follower {follower_id}.")


class FollowerNotAllowed(DomainError):
    code = "ticket.follower_not_allowed"
    http_status = 422
    title = _("Follower not allowed")
    message = _("This person cannot follow ticket {number}: {reason}")


class FollowerOfOtherCompany(DomainError):
    code = "ticket.follower_other_company"
    http_status = 422
    title = _("Customer of another company")
    message = _(
        "{name} belongs to another company than the requester of ticket {number}, so they "
        "cannot follow it. Add colleagues of the requester only."
    )


class CustomFieldNotFound(NotFound):
    code = "custom_field.not_found"
    message = _("Custom field {field_id} does not exist.")


class CustomFieldKeyTaken(Conflict):
    code = "custom_field.key_taken"
    title = _("Key already used")
    message = _(
        "A custom field with the key {key} already applies to these tickets. Keys stay taken "
        "after a field is deactivated: reactivate that field instead."
    )


class CustomFieldChangeDenied(PermissionDenied):
    code = "custom_field.permission_denied"
    message = _("Only administrators may change custom field definitions.")


class AttachmentExtensionBlocked(AttachmentRejected):
    """A refused attachment (same code) whose name ends in a blocked extension."""

    code = "attachment.rejected"
    message = _("The file {filename} was refused: files ending in {ending} are not accepted.")

    def __init__(self, *, filename: str, ending: str) -> None:
        self.ending = ending
        super().__init__(filename=filename, ending=ending)

    def extensions(self) -> dict[str, Any]:
        return {"blocked_extension": self.ending}
