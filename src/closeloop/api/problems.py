"""Every error leaves as RFC 9457 ``application/problem+json`` with a stable ``type``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _, negotiate_locale
from closeloop.kit.logging import get_logger

PROBLEM_TYPE_PREFIX = "urn:closeloop:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = get_logger(__name__)

_HTTP_PROBLEMS = {
    400: ("bad_request", _("Bad request")),
    401: ("auth.required", _("Authentication required")),
    403: ("permission_denied", _("Permission denied")),
    404: ("not_found", _("Not found")),
    405: ("method_not_allowed", _("Method not allowed")),
    406: ("not_acceptable", _("Not acceptable")),
    413: ("request.too_large", _("Request too large")),
    415: ("unsupported_media_type", _("Unsupported media type")),
    429: ("rate_limited", _("Too many requests")),
}


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def request_locale(request: Request) -> str:
    return negotiate_locale(request.headers.get("accept-language"), default="en")


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    locale = request_locale(request)
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    return problem_response(
        request,
        status=error.http_status,
        code=error.code,
        title=error.title.render(locale),
        detail=error.render(locale),
        extensions=error.extensions(),
        headers=headers,
    )


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    locale = request_locale(request)
    errors = [
        {
            "field": _location(tuple(item.get("loc", ()))),
            "code": item.get("type", "invalid"),
            "message": item.get("msg", ""),
        }
        for item in error.errors()
    ]
    return problem_response(
        request,
        status=422,
        code="validation_failed",
        title=_("Invalid input").render(locale),
        detail=_("Some fields are not valid.").render(locale),
        extensions={"errors": errors},
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    locale = request_locale(request)
    code, title = _HTTP_PROBLEMS.get(error.status_code, ("error", _("Error")))
    detail = error.detail if isinstance(error.detail, str) else title.render(locale)
    return problem_response(
        request,
        status=error.status_code,
        code=code,
        title=title.render(locale),
        detail=detail,
        headers=dict(error.headers) if error.headers else None,
    )


async def _stale(request: Request, error: Exception) -> JSONResponse:
    locale = request_locale(request)
    return problem_response(
        request,
        status=409,
        code="ticket.stale_version",
        title=_("Ticket changed meanwhile").render(locale),
        detail=_("Someone else changed this in the meantime. Reload and try again.").render(locale),
    )


async def _integrity(request: Request, error: Exception) -> JSONResponse:
    locale = request_locale(request)
    log.info("integrity_conflict", path=request.url.path)
    return problem_response(
        request,
        status=409,
        code="conflict",
        title=_("Conflict").render(locale),
        detail=_("The change conflicts with existing data. Reload and try again.").render(locale),
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, error_type=type(error).__name__)
    locale = request_locale(request)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        title=_("Internal error").render(locale),
        detail=_("Something went wrong on our side; nothing was changed.").render(locale),
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _unexpected)
