"""The base of every business error.

A :class:`DomainError` carries a stable ``code`` (it becomes the problem+json ``type``), the HTTP
status the delivery layer should answer with, and a translatable message with named parameters.
"""

from __future__ import annotations

from typing import Any, ClassVar

from closeloop.kit.i18n import LazyString, _


class DomainError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    title: ClassVar[LazyString] = _("The request could not be completed.")
    message: ClassVar[LazyString] = _("The request could not be completed.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.render("en"))

    def render(self, locale: str) -> str:
        return self.message.render(
            locale, **{k: _render(v, locale) for k, v in self.params.items()}
        )

    def extensions(self) -> dict[str, Any]:
        """Machine-readable details added to the problem body."""
        return {}


def _render(value: Any, locale: str) -> Any:
    if isinstance(value, LazyString):
        return value.render(locale)
    return value


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    title = _("Not found")
    message = _("The requested resource does not exist.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    title = _("Permission denied")
    message = _("You are not allowed to do this.")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    title = _("Conflict")
    message = _("The resource changed in the meantime.")


class ValidationFailed(DomainError):
    """Business validation that names the offending fields."""

    code = "validation_failed"
    http_status = 422
    title = _("Invalid input")
    message = _("Some fields are not valid.")

    def __init__(self, errors: list[dict[str, Any]], **params: Any) -> None:
        self.errors = errors
        super().__init__(**params)

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.errors}
