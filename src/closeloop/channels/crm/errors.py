"""Errors of the CRM lookup."""

from __future__ import annotations

from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _


class CrmNotConfigured(DomainError):
    code = "crm.not_configured"
    http_status = 422
    title = _("CRM lookup not configured")
    message = _("Set the CRM lookup address first.")


class InvalidCrmTemplate(DomainError):
    code = "crm.invalid_template"
    http_status = 422
    title = _("Invalid CRM address")
    message = _("The CRM lookup address cannot be used: {problems}")


class CrmLookupFailed(DomainError):
    """The CRM could not be asked; the enrichment job retries with backoff."""

    code = "crm.lookup_failed"
    http_status = 502
    title = _("CRM lookup failed")
    message = _("The CRM lookup failed: {reason}")


class CrmTokenUnreadable(DomainError):
    """The stored bearer token was encrypted under another server key."""

    code = "crm.token_unreadable"
    http_status = 409
    title = _("CRM token unreadable")
    message = _(
        "The CRM bearer token was stored under another server secret key. Enter the token again."
    )
