"""Errors of webhook intake and of its sources' administration."""

from __future__ import annotations

from closeloop.kit.errors import Conflict, DomainError, NotFound
from closeloop.kit.i18n import _


class WebhookSourceNotFound(NotFound):
    code = "webhook_source.not_found"
    message = _("Webhook source {source} does not exist or is switched off.")


class WebhookSlugTaken(Conflict):
    code = "webhook_source.slug_taken"
    title = _("Address already used")
    message = _("Another webhook source already uses the address {slug}.")


class WebhookSignatureRefused(DomainError):
    """One answer for a missing, malformed, expired or wrong signature: the sender learns
    nothing about which (the reason is logged)."""

    code = "webhook.signature_refused"
    http_status = 401
    title = _("Signature refused")
    message = _(
        "The X-Closeloop-Signature header is missing, malformed, outside the replay window, "
        "or does not match the body."
    )


class WebhookSecretUnreadable(DomainError):
    code = "webhook_source.secret_unreadable"
    http_status = 409
    title = _("Secret unreadable")
    message = _(
        "The signing secret of webhook source {source} was stored under another server key. "
        "Rotate the secret."
    )
