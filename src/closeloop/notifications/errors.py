"""Errors of the notifications feature, each with a stable dotted code."""

from __future__ import annotations

from closeloop.kit.errors import DomainError, NotFound
from closeloop.kit.i18n import _


class NotificationNotFound(NotFound):
    code = "notification.not_found"
    message = _("Notification {notification_id} does not exist.")


class ChannelNotFound(NotFound):
    code = "notification_channel.not_found"
    message = _("Notification channel {channel_id} does not exist.")


class ChannelSecretRequired(DomainError):
    code = "notification_channel.secret_required"
    http_status = 422
    title = _("Secret required")
    message = _("A {kind} channel needs the signing secret shown in the bot's security settings.")


class ChannelInactive(DomainError):
    code = "notification_channel.inactive"
    http_status = 409
    title = _("Channel switched off")
    message = _("Notification channel {channel_id} is switched off; switch it on to test it.")


class DeliveryFailed(DomainError):
    """An outgoing message was refused or could not be sent; the job retries it."""

    code = "notification.delivery_failed"
    http_status = 502
    title = _("Delivery failed")
    message = _("The message could not be delivered: {reason}")


class EmailNotConfigured(DomainError):
    code = "notification.email_not_configured"
    http_status = 503
    title = _("Email not configured")
    message = _("No SMTP server is configured (CLOSELOOP_SMTP_HOST); email cannot be sent.")
