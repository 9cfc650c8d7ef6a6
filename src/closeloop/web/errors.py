"""Error pages: readable, translated answers for page paths; API paths keep problem+json.

``install_page_handlers(app)`` runs after ``api.problems.install_problem_handlers``: it wraps
each installed handler so that requests under ``/api`` still get the problem+json answer while
every other path gets an HTML page (or, for htmx requests, a message swapped into ``#flash``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from closeloop.kit.errors import DomainError, ValidationFailed
from closeloop.kit.i18n import LazyString, _
from closeloop.kit.logging import get_logger
from closeloop.web.deps import SignInRequired
from closeloop.web.session import fallback_session, is_htmx
from closeloop.web.templating import Translator, render

log = get_logger(__name__)
Handler = Callable[[Request, Exception], Awaitable[Response]]
API_PREFIXES = ("/api/", "/api")

_TITLES: dict[int, LazyString] = {
    400: _("Bad request"),
    403: _("Permission denied"),
    404: _("Page not found"),
    405: _("Method not allowed"),
    409: _("Changed meanwhile"),
    413: _("Request too large"),
    422: _("Please check the form"),
    429: _("Too many requests"),
    500: _("Something went wrong"),
}
_MESSAGES: dict[int, LazyString] = {
    404: _("This page does not exist, or you may not see it."),
    405: _("This address does not accept that kind of request."),
    500: _("Something went wrong on our side; nothing was changed."),
}
_FIELD_REQUIRED = _("This field is required.")
_FIELD_INVALID = _("This value is not valid.")
_STALE = _("Someone else changed this in the meantime. Reload and try again.")
_CONFLICT = _("The change conflicts with existing data. Reload and try again.")


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def error_page(
    request: Request,
    *,
    status: int,
    message: str,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    session = fallback_session(request)
    translator = Translator(session.locale)
    heading = title or translator.gettext(_TITLES.get(status, _("Error")))
    context = {"status": status, "heading": heading, "message": message, "errors": errors or []}
    extra = dict(headers or {})
    if is_htmx(request):
        # htmx does not swap error answers by default; app.js swaps those that name a target.
        extra.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        return render(request, "errors/fragment.html", context, status_code=status, headers=extra)
    return render(request, "errors/page.html", context, status_code=status, headers=extra)


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    locale = fallback_session(request).locale
    errors = error.errors if isinstance(error, ValidationFailed) else None
    # Whatever is missing or hidden, a page answers alike (never reveal existence).
    message = _MESSAGES[404].render(locale) if error.http_status == 404 else error.render(locale)
    title = None if error.http_status in _TITLES else error.title.render(locale)
    return error_page(
        request, status=error.http_status, message=message, title=title, errors=errors
    )


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    locale = fallback_session(request).locale
    # Pydantic's own messages are English only: each error is told in the visitor's language.
    errors = [
        {
            "field": ".".join(
                str(p) for p in item.get("loc", ()) if p not in ("body", "form", "query", "path")
            ),
            "message": (
                _FIELD_REQUIRED if item.get("type") == "missing" else _FIELD_INVALID
            ).render(locale),
        }
        for item in error.errors()
    ]
    return error_page(
        request,
        status=422,
        message=_("Some fields are not valid.").render(locale),
        errors=errors,
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    locale = fallback_session(request).locale
    status = error.status_code
    fallback = _MESSAGES.get(status) or _TITLES.get(status) or _("Error")
    return error_page(
        request,
        status=status,
        message=fallback.render(locale),
        headers=dict(error.headers) if error.headers else None,
    )


async def _stale(request: Request, error: Exception) -> Response:
    return error_page(request, status=409, message=_STALE.render(fallback_session(request).locale))


async def _integrity(request: Request, error: Exception) -> Response:
    log.info("integrity_conflict", path=request.url.path)
    locale = fallback_session(request).locale
    return error_page(request, status=409, message=_CONFLICT.render(locale))


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path, error_type=type(error).__name__)
    locale = fallback_session(request).locale
    return error_page(request, status=500, message=_MESSAGES[500].render(locale))


async def _sign_in(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    url = error.login_url()
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


_PAGE_HANDLERS: dict[type[Exception], Handler] = {
    DomainError: _domain_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    StaleDataError: _stale,
    IntegrityError: _integrity,
    Exception: _unexpected,
}


def _split(api: Any, page: Handler) -> Handler:
    async def handle(request: Request, error: Exception) -> Response:
        if is_api_path(request.url.path):
            answer: Response = await api(request, error)
            return answer
        return await page(request, error)

    return handle


def install_page_handlers(app: FastAPI) -> None:
    """Answer page paths with HTML; keep whatever handler was installed for API paths."""
    for error_type, page in _PAGE_HANDLERS.items():
        api = app.exception_handlers.get(error_type)
        app.add_exception_handler(error_type, page if api is None else _split(api, page))
    app.add_exception_handler(SignInRequired, _sign_in)
