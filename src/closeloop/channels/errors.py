"""Errors of the inbound pipeline, each with a stable code.

Those raised while taking a message (``EmptyMessage``, ``TicketNotWritable``…) do not reach a
caller: the message is quarantined with their text as the reason admins read.
"""

from __future__ import annotations

from closeloop.kit.errors import Conflict, DomainError, NotFound
from closeloop.kit.i18n import _


class InboundMessageNotFound(NotFound):
    code = "inbound.not_found"
    message = _("Inbound message {inbound_id} does not exist.")


class NotQuarantined(Conflict):
    code = "inbound.not_quarantined"
    title = _("Not in quarantine")
    message = _("Inbound message {inbound_id} is not in quarantine (its outcome is {outcome}).")


class RawMessageMissing(NotFound):
    code = "inbound.raw_missing"
    message = _("Inbound message {inbound_id} has no stored raw message.")


class CannotReadAgain(Conflict):
    code = "inbound.cannot_read_again"
    title = _("Cannot be read again")
    message = _(
        "Inbound message {inbound_id} cannot be taken again: nothing can read raw {channel} "
        "messages."
    )


class EmptyMessage(DomainError):
    code = "inbound.empty"
    http_status = 422
    title = _("Empty message")
    message = _("The message has no subject, no text and no attachments.")


class TooManyAttachments(DomainError):
    code = "inbound.too_many_attachments"
    http_status = 422
    title = _("Too many attachments")
    message = _("The message has {count} attachments; at most {limit} are taken.")


class TicketNotWritable(DomainError):
    code = "inbound.ticket_not_writable"
    http_status = 422
    title = _("Ticket not writable")
    message = _("The message is addressed to ticket {number}, which its sender may not write on.")


class UnreadableMessage(DomainError):
    code = "inbound.unreadable"
    http_status = 422
    title = _("Unreadable message")
    message = _("The message could not be read: {reason}")
