"""Signing in and out, and the signed-in agent's own account: password, language, time zone."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from closeloop.accounts import management, throttle
from closeloop.accounts import service as accounts
from closeloop.accounts.errors import AuthenticationFailed
from closeloop.accounts.passwords import MINIMUM_LENGTH
from closeloop.accounts.schemas import AgentUpdate
from closeloop.config import Settings
from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import SUPPORTED_LOCALES, _
from closeloop.web.deps import (
    CsrfChecked,
    PageAgent,
    PageSessionDep,
    PageUow,
    render,
    safe_next,
    see_other,
)
from closeloop.web.session import LOCALE_COOKIE, SESSION_COOKIE, is_secure

router = APIRouter()

_LOCKED = _(
    "Too many failed sign-ins. For your security, signing in with this account or from this "
    "address is paused for {minutes} minutes."
)
_FAILED = _("The email or password is wrong, or the account is disabled.")
_LOCALE_COOKIE_SECONDS = 365 * 24 * 3600


def _via(request: Request) -> str:
    return f"web:{request.method} {request.url.path}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- home ---------------------------------------------------------------------------------


@router.get("/")
def home(session: PageSessionDep) -> RedirectResponse:
    """The workspace for signed-in agents, else the sign-in page."""
    principal = session.principal
    target = "/agent" if principal is not None and principal.is_agent else "/login"
    return RedirectResponse(target, status_code=303)


# --- sign in and out ----------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "next": next_path,
        "email": email,
        "error": error,
        "remember_days": _settings(request).session_days,
    }
    return render(request, "auth/login.html", context, status_code=status_code)


@router.get("/login")
def login_form(request: Request, session: PageSessionDep, next: str | None = None) -> Response:
    next_path = safe_next(next)
    if session.principal is not None and session.principal.is_agent:
        return RedirectResponse(next_path, status_code=303)
    return _login_page(request, next_path=next_path)


@router.post("/login")
def login(
    request: Request,
    uow: PageUow,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    remember: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    settings = _settings(request)
    next_path = safe_next(next)
    window = timedelta(minutes=settings.login_throttle_minutes)
    account_key = throttle.account_key("login:account", email)
    address_key = throttle.account_key("login:address", _client_address(request))
    locked_message = _LOCKED.render(session.locale, minutes=settings.login_throttle_minutes)
    # Locked keys are refused before the password is looked at, whether the account exists
    # or not, so the answer tells nothing about which emails are registered.
    if throttle.exceeded(
        uow, key=account_key, limit=settings.login_attempts_per_account, window=window
    ) or throttle.exceeded(
        uow, key=address_key, limit=settings.login_attempts_per_address, window=window
    ):
        return _login_page(
            request, next_path=next_path, email=email, error=locked_message, status_code=429
        )
    try:
        principal = accounts.authenticate_password(uow, email=email, password=password)
    except AuthenticationFailed:
        failures = throttle.count_hit(uow, key=account_key, window=window)
        address_failures = throttle.count_hit(uow, key=address_key, window=window)
        uow.commit()
        locked = (
            failures >= settings.login_attempts_per_account
            or address_failures >= settings.login_attempts_per_address
        )
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error=locked_message if locked else _FAILED.render(session.locale),
            status_code=429 if locked else 401,
        )
    remembered = remember is not None
    lifetime = (
        timedelta(days=settings.session_days)
        if remembered
        else timedelta(hours=settings.session_hours)
    )
    if session.login_cookie is not None:
        # Someone else (or an earlier sign-in) was signed in on this browser: end that session,
        # not just replace its cookie, so it cannot be used again.
        accounts.end_login_session(uow, session.login_cookie)
    cookie, _csrf_token = accounts.start_login_session(uow, principal=principal, lifetime=lifetime)
    throttle.reset(uow, key=account_key)
    uow.commit()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        # Without "remember me" a browser-session cookie: it ends when the browser closes.
        max_age=int(lifetime.total_seconds()) if remembered else None,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, uow: PageUow, session: PageSessionDep, _csrf: CsrfChecked) -> Response:
    if session.login_cookie is not None:
        accounts.end_login_session(uow, session.login_cookie)
        uow.commit()
    response = see_other(request, "/login", flash=_("You have signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- language -----------------------------------------------------------------------------


@router.post("/account/locale")
def switch_locale(
    request: Request,
    uow: PageUow,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    locale: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """The language switch of the top bar (and of the sign-in page): stored on the agent when
    signed in, and in a cookie for pages shown before signing in."""
    if locale not in SUPPORTED_LOCALES:
        locale = session.locale
    principal = session.principal
    if principal is not None and principal.is_agent and principal.id is not None:
        management.update_agent(
            uow,
            agent_id=principal.id,
            changes=AgentUpdate(locale=locale),
            actor=principal,
            via=_via(request),
        )
        uow.commit()
    response = see_other(request, safe_next(next, default="/"))
    _remember_locale(request, response, locale)
    return response


def _remember_locale(request: Request, response: Response, locale: str) -> None:
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=_LOCALE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


# --- own account --------------------------------------------------------------------------


@router.get("/account")
def account(_agent: PageAgent) -> RedirectResponse:
    return RedirectResponse("/account/preferences", status_code=303)


@router.get("/account/password")
def password_form(request: Request, _agent: PageAgent) -> Response:
    return render(request, "account/password.html", {"minimum": MINIMUM_LENGTH, "errors": []})


@router.post("/account/password")
def change_password(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    errors: list[dict[str, Any]] = []
    if new_password != confirm_password:
        errors.append(
            {
                "field": "confirm_password",
                "message": _("The new passwords do not match.").render(session.locale),
            }
        )
    if not errors:
        assert agent.id is not None
        try:
            management.change_password(
                uow,
                agent_id=agent.id,
                new_password=new_password,
                current_password=current_password,
                actor=agent,
                via=_via(request),
            )
        except DomainError as error:
            field = "current_password" if "current_password" in error.code else "new_password"
            errors.append({"field": field, "message": error.render(session.locale)})
    if errors:
        return render(
            request,
            "account/password.html",
            {"minimum": MINIMUM_LENGTH, "errors": errors},
            status_code=422,
        )
    assert agent.id is not None
    accounts.end_other_login_sessions(
        uow, agent_id=agent.id, keep_cookie=session.login_cookie, actor=agent, via=_via(request)
    )
    uow.commit()
    return see_other(
        request,
        "/account/password",
        flash=_("Your password was changed. Your other sessions were signed out."),
    )


@cache
def time_zone_choices() -> tuple[str, ...]:
    """Every zoneinfo time zone people pick (no legacy aliases such as ``Etc/GMT+8``)."""
    return tuple(
        sorted(
            zone
            for zone in available_timezones()
            if ("/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/"))) or zone == "UTC"
        )
    )


@router.get("/account/preferences")
def preferences_form(request: Request, uow: PageUow, agent: PageAgent) -> Response:
    assert agent.id is not None
    return _preferences_page(request, locale=agent.locale, time_zone=agent.time_zone, errors=[])


def _preferences_page(
    request: Request,
    *,
    locale: str,
    time_zone: str,
    errors: list[dict[str, Any]],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account/preferences.html",
        {
            "selected_locale": locale,
            "selected_time_zone": time_zone,
            "time_zones": time_zone_choices(),
            "errors": errors,
        },
        status_code=status_code,
    )


@router.post("/account/preferences")
def save_preferences(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    locale: Annotated[str, Form()] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    assert agent.id is not None
    errors: list[dict[str, Any]] = []
    if locale not in SUPPORTED_LOCALES:
        errors.append(
            {"field": "locale", "message": _("Choose a language.").render(session.locale)}
        )
    elif not time_zone.strip():
        errors.append(
            {"field": "time_zone", "message": _("Choose a time zone.").render(session.locale)}
        )
    else:
        try:
            management.update_agent(
                uow,
                agent_id=agent.id,
                changes=AgentUpdate(locale=locale, time_zone=time_zone),
                actor=agent,
                via=_via(request),
            )
        except DomainError as error:
            errors.append({"field": "time_zone", "message": error.render(session.locale)})
    if errors:
        uow.rollback()
        return _preferences_page(
            request, locale=locale, time_zone=time_zone, errors=errors, status_code=422
        )
    uow.commit()
    response = see_other(request, "/account/preferences", flash=_("Your preferences were saved."))
    _remember_locale(request, response, locale)
    return response
