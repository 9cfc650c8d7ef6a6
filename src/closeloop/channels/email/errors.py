"""Errors of the email channel, each with a stable dotted code."""

from __future__ import annotations

from closeloop.kit.errors import Conflict, NotFound
from closeloop.kit.i18n import _


class MailboxNotFound(NotFound):
    code = "mailbox.not_found"
    message = _("Mailbox {mailbox_id} does not exist.")


class MailboxAddressTaken(Conflict):
    code = "mailbox.address_taken"
    title = _("Address in use")
    message = _("The address {address} belongs to another mailbox already.")
