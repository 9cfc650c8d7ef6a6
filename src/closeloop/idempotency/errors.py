"""Errors of idempotent requests."""

from __future__ import annotations

from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _


class IdempotencyKeyReused(DomainError):
    code = "idempotency.key_reused"
    http_status = 422
    title = _("Idempotency key reused")
    message = _(
        "The Idempotency-Key {key} was already used for a different request. "
        "Use a new key for a new request."
    )


class IdempotencyKeyInvalid(DomainError):
    code = "idempotency.key_invalid"
    http_status = 400
    title = _("Invalid Idempotency-Key")
    message = _("An Idempotency-Key must be 1 to 255 visible ASCII characters.")
