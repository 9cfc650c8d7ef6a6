"""Dependencies of the pages: the unit of work, the visitor (cookie session), CSRF, locale.

    @router.get("/agent/things")
    def things(request: Request, uow: PageUow, agent: PageAgent) -> HTMLResponse:
        return render(request, "agent/things.html", {"things": ...})

    @router.post("/agent/things")
    def add_thing(request: Request, uow: PageUow, agent: PageAgent, _csrf: CsrfChecked,
                  name: Annotated[str, Form()]) -> Response:
        ...; uow.commit()
        return see_other(request, "/agent/things", flash=_("Saved."))

Not signed in -> 303 to ``/login?next=<path>`` (htmx: ``HX-Redirect``); signed in but not
allowed -> the 404 page, so a page's existence is never revealed.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import CsrfFailed
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import negotiate_locale
from closeloop.web.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    PageSession,
    chosen_locale,
    is_htmx,
    known_session,
    pre_session_csrf,
    remember,
)
from closeloop.web.templating import render, see_other

__all__ = [
    "CsrfChecked",
    "PageAdmin",
    "PageAgent",
    "PageSessionDep",
    "PageSupervisor",
    "PageUow",
    "PageVisitor",
    "SignInRequired",
    "render",
    "safe_next",
    "see_other",
]


class SignInRequired(Exception):
    """Raised by page dependencies for anonymous visitors; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    def login_url(self) -> str:
        return "/login?" + urlencode({"next": self.next_path})


def page_unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work per page request; read-only for GET (like the API's), the handler
    commits, anything uncommitted is rolled back."""
    read_only = request.method in SAFE_METHODS
    state = request.app.state
    uow = UnitOfWork(
        state.read_session_factory if read_only else state.session_factory,
        bus=state.bus,
        clock=state.clock,
        read_only=read_only,
    )
    with uow:
        request.state.page_uow = uow
        yield uow


PageUow = Annotated[UnitOfWork, Depends(page_unit_of_work)]


def page_session(request: Request, uow: PageUow) -> PageSession:
    """Who is visiting (from the session cookie), their CSRF token, locale and time zone.

    Locale: the signed-in person's stored one; for anonymous visitors the language they chose
    with the switch, else the organisation's default, else ``Accept-Language``.
    """
    found = known_session(request)
    if found is not None:
        return found
    settings = request.app.state.settings
    principal: Principal | None = None
    csrf: str | None = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        signed_in = accounts.principal_for_login_session(uow, cookie)
        if signed_in is not None:
            principal, csrf = signed_in
    issue_cookie = False
    if csrf is None:
        csrf, issue_cookie = pre_session_csrf(request)
    if principal is not None and principal.is_agent:
        locale, time_zone = principal.locale, principal.time_zone
    else:
        defaults = accounts.organisation_preferences(uow)
        time_zone = defaults[1] if defaults else settings.default_time_zone
        if principal is not None:
            locale = principal.locale
        else:
            locale = chosen_locale(request) or (
                defaults[0]
                if defaults
                else negotiate_locale(
                    request.headers.get("accept-language"), default=settings.default_locale
                )
            )
    return remember(
        request,
        PageSession(
            principal=principal,
            csrf_token=csrf,
            locale=locale,
            time_zone=time_zone,
            login_cookie=cookie if principal is not None else None,
            issue_csrf_cookie=issue_cookie,
        ),
    )


PageSessionDep = Annotated[PageSession, Depends(page_session)]


async def page_visitor(session: PageSessionDep) -> Principal | None:
    """The signed-in principal (agent or customer), or None: for pages anyone may see."""
    return session.principal


PageVisitor = Annotated[Principal | None, Depends(page_visitor)]


def _next_path(request: Request) -> str:
    if is_htmx(request):
        # An htmx request's own URL is a fragment; come back to the page that asked for it.
        current = request.headers.get("hx-current-url", "")
        parts = urlsplit(current)
        if parts.path:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    path = request.url.path
    return safe_next(path + (f"?{request.url.query}" if request.url.query else ""))


def _signed_in(request: Request, session: PageSession) -> Principal:
    if session.principal is None:
        raise SignInRequired(_next_path(request))
    return session.principal


async def require_page_agent(request: Request, session: PageSessionDep) -> Principal:
    principal = _signed_in(request, session)
    if not principal.is_agent:
        raise NotFound()
    return principal


async def require_page_supervisor(request: Request, session: PageSessionDep) -> Principal:
    principal = _signed_in(request, session)
    if not (principal.is_agent and principal.sees_all_tickets):
        raise NotFound()
    return principal


async def require_page_admin(request: Request, session: PageSessionDep) -> Principal:
    principal = _signed_in(request, session)
    if not (principal.is_agent and principal.is_admin):
        raise NotFound()
    return principal


PageAgent = Annotated[Principal, Depends(require_page_agent)]
PageSupervisor = Annotated[Principal, Depends(require_page_supervisor)]
PageAdmin = Annotated[Principal, Depends(require_page_admin)]


async def check_csrf(request: Request, session: PageSessionDep) -> None:
    """Refuse an unsafe request whose ``csrf_token`` form field or ``X-CSRF-Token`` header
    does not match the visitor's token (the session's, or the pre-session cookie's)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise CsrfFailed()


CsrfChecked = Annotated[None, Depends(check_csrf)]


def safe_next(value: str | None, default: str = "/agent") -> str:
    """A local path to continue at after signing in; anything else (absolute URLs,
    ``//host``, backslashes, control characters) becomes ``default``."""
    if not value or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(character) < 32 or character == "\\" for character in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
