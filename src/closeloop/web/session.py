"""What a page request knows about its visitor: who signed in, the CSRF token, locale, time zone.

``web.deps`` resolves it once per request (it needs the database) and keeps it on
``request.state``; error pages that run before (or without) the dependencies fall back to
:func:`fallback_session`, which reads only the request's cookies and headers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from closeloop.accounts.domain import Principal
from closeloop.kit.i18n import SUPPORTED_LOCALES, negotiate_locale

# The same cookie the JSON API accepts (api/deps.py), so a signed-in page may call the API too.
SESSION_COOKIE = "closeloop_session"
# Double-submit token for forms shown before signing in (login, the public web form).
CSRF_COOKIE = "closeloop_csrf"
# The language an anonymous visitor chose (also kept in step when a signed-in agent switches).
LOCALE_COOKIE = "closeloop_locale"
# A one-shot message shown on the next page (see ``web.templating.see_other``).
FLASH_COOKIE = "closeloop_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STATE_KEY = "page_session"


@dataclass(slots=True)
class PageSession:
    """The visitor of one page request."""

    principal: Principal | None
    csrf_token: str
    locale: str
    time_zone: str
    # The raw session cookie (to end the *other* sessions on a password change), if signed in.
    login_cookie: str | None = None
    # A fresh pre-session CSRF token that the response must set as a cookie.
    issue_csrf_cookie: bool = False

    @property
    def is_signed_in(self) -> bool:
        return self.principal is not None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def chosen_locale(request: Request) -> str | None:
    """The language picked with the switch (cookie), if it names a supported one."""
    value = request.cookies.get(LOCALE_COOKIE)
    return value if value in SUPPORTED_LOCALES else None


def pre_session_csrf(request: Request) -> tuple[str, bool]:
    """The visitor's pre-session CSRF token, and whether it is new (to be set as a cookie)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return new_csrf_token(), True


def remember(request: Request, session: PageSession) -> PageSession:
    setattr(request.state, _STATE_KEY, session)
    return session


def known_session(request: Request) -> PageSession | None:
    found: Any = getattr(request.state, _STATE_KEY, None)
    return found if isinstance(found, PageSession) else None


def fallback_session(request: Request) -> PageSession:
    """The visitor as far as the request alone tells (no database): for error pages."""
    found = known_session(request)
    if found is not None:
        return found
    settings = request.app.state.settings
    locale = chosen_locale(request) or negotiate_locale(
        request.headers.get("accept-language"), default=settings.default_locale
    )
    token, is_new = pre_session_csrf(request)
    return remember(
        request,
        PageSession(
            principal=None,
            csrf_token=token,
            locale=locale,
            time_zone=settings.default_time_zone,
            issue_csrf_cookie=is_new,
        ),
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def is_secure(request: Request) -> bool:
    """Whether the visitor reached us over https (directly, or through a proxy that says so)."""
    return request.url.scheme == "https"
