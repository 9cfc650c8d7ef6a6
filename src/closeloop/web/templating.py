"""The Jinja2 environment of the pages and ``render``.

Every template sees ``principal``, ``locale``, ``time_zone``, ``_`` (gettext in the visitor's
locale: ``{{ _("Hello {name}", name=principal.name) }}``), ``gettext``/``ngettext`` (for
``{% trans %}`` blocks), ``csrf_token``, ``request``, ``now``, ``htmx`` (an htmx request?),
``flash`` (a one-shot message) and ``nav()`` (the agent side navigation, computed only when the
layout asks for it), plus the handler's own context.

Filters: ``localtime``, ``timeago``, ``countdown``, ``isoformat``, ``ticket_number``,
``status_label``, ``priority_label``, ``type_label``, ``channel_label``, ``sla_state_label``.
The ones that translate read the locale from the calling template's context, so a macro module
that uses them is imported ``with context``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from closeloop.kit.i18n import LazyString, _, normalise_locale, translate
from closeloop.kit.ids import format_ticket_number
from closeloop.web import labels
from closeloop.web.session import (
    CSRF_COOKIE,
    FLASH_COOKIE,
    PageSession,
    fallback_session,
    is_htmx,
    is_secure,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

# Locale-appropriate patterns (CLDR syntax): 2026年11月25日 14:05 / 25 Nov 2026, 14:05.
_PATTERNS: Mapping[str, Mapping[str, str]] = {
    "zh_CN": {"datetime": "y年M月d日 HH:mm", "date": "y年M月d日", "time": "HH:mm"},
    "en": {"datetime": "d MMM y, HH:mm", "date": "d MMM y", "time": "HH:mm"},
}


class Translator:
    """gettext bound to one locale; messages use ``{name}`` placeholders like ``kit.i18n``."""

    def __init__(self, locale: str) -> None:
        self.locale = normalise_locale(locale)

    def gettext(self, message: str | LazyString, /, **params: Any) -> str:
        if isinstance(message, LazyString):
            return message.render(self.locale, **params)
        text = translate(message, self.locale)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, count: int, /, **params: Any) -> str:
        # The catalogues hold no plural forms (Chinese has one): pick the English form's msgid.
        return self.gettext(singular if count == 1 else plural, **params)


def _locale(context: Context) -> str:
    locale = context.get("locale")
    if not isinstance(locale, str):
        raise RuntimeError(
            "this filter needs the page context: import the macro module `with context`"
        )
    return locale


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_local(value: datetime, *, locale: str, time_zone: str, style: str = "datetime") -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: pages show only aware instants")
    locale = normalise_locale(locale)
    pattern = _PATTERNS[locale][style]
    local = value.astimezone(_zone(time_zone))
    return str(format_datetime(local, pattern, tzinfo=local.tzinfo, locale=_babel_locale(locale)))


@cache
def _babel_locale(name: str) -> Locale:
    """Parsed once: ``Locale.parse`` scans Babel's locale data on every call (about 2 ms)."""
    return Locale.parse(name)


@pass_context
def localtime(context: Context, value: datetime | None, style: str = "datetime") -> str:
    """An instant in the visitor's time zone: ``2026年11月25日 14:05`` / ``25 Nov 2026, 14:05``."""
    if value is None:
        return ""
    return format_local(
        value, locale=_locale(context), time_zone=str(context.get("time_zone")), style=style
    )


def _span(seconds: float, locale: str) -> str:
    """A rounded length of time: ``5 minutes``, ``3 hours``, ``2 days``."""
    minutes = round(seconds / 60)
    if minutes < 60:
        if minutes <= 1:
            return _("1 minute").render(locale)
        return _("{count} minutes").render(locale, count=minutes)
    hours = round(seconds / 3600)
    if hours < 24:
        if hours == 1:
            return _("1 hour").render(locale)
        return _("{count} hours").render(locale, count=hours)
    days = round(seconds / 86400)
    if days == 1:
        return _("1 day").render(locale)
    return _("{count} days").render(locale, count=days)


def describe_age(value: datetime, *, now: datetime, locale: str, time_zone: str) -> str:
    seconds = (now - value).total_seconds()
    if abs(seconds) < 45:
        return _("just now").render(locale)
    if abs(seconds) >= 26 * 86400:
        return format_local(value, locale=locale, time_zone=time_zone, style="date")
    span = _span(abs(seconds), locale)
    if seconds > 0:
        return _("{span} ago").render(locale, span=span)
    return _("in {span}").render(locale, span=span)


@pass_context
def timeago(context: Context, value: datetime | None) -> str:
    """``5 minutes ago`` / ``5 分钟前``; older than about a month: the date."""
    if value is None:
        return ""
    now: datetime = context["now"]
    return describe_age(
        value, now=now, locale=_locale(context), time_zone=str(context.get("time_zone"))
    )


def describe_remaining(due_at: datetime, *, now: datetime, locale: str) -> str:
    seconds = (due_at - now).total_seconds()
    if seconds >= 0:
        return _("{span} left").render(locale, span=_compact(seconds, locale))
    return _("{span} overdue").render(locale, span=_compact(-seconds, locale))


def _compact(seconds: float, locale: str) -> str:
    """``2 h 05 min`` / ``2小时05分``: exact enough for a countdown."""
    total_minutes = int(seconds // 60)
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{days} d {hours} h").render(locale, days=days, hours=hours)
    if hours:
        return _("{hours} h {minutes} min").render(locale, hours=hours, minutes=f"{minutes:02d}")
    return _("{minutes} min").render(locale, minutes=minutes)


@pass_context
def countdown(context: Context, due_at: datetime | None) -> str:
    """Time left until (or past) a due instant: ``1 h 20 min left`` / ``15 min overdue``."""
    if due_at is None:
        return ""
    return describe_remaining(due_at, now=context["now"], locale=_locale(context))


def isoformat(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def ticket_number(ticket_id: int) -> str:
    return format_ticket_number(int(ticket_id))


def _label_filter(table: Mapping[str, LazyString]) -> Callable[..., str]:
    @pass_context
    def translated(context: Context, value: object) -> str:
        return labels.label(table, value, _locale(context))

    return translated


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        localtime=localtime,
        timeago=timeago,
        countdown=countdown,
        isoformat=isoformat,
        ticket_number=ticket_number,
        status_label=_label_filter(labels.STATUS_LABELS),
        priority_label=_label_filter(labels.PRIORITY_LABELS),
        type_label=_label_filter(labels.TYPE_LABELS),
        channel_label=_label_filter(labels.CHANNEL_LABELS),
        sla_state_label=_label_filter(labels.SLA_STATE_LABELS),
    )
    env.globals["languages"] = labels.LANGUAGE_NAMES
    return env


def _nav(request: Request, session: PageSession) -> Callable[[], dict[str, Any]]:
    """The side navigation, computed at most once and only if the layout renders it."""
    computed: dict[str, Any] = {}

    def nav() -> dict[str, Any]:
        if not computed:
            from closeloop.web.agent.nav import nav_context

            uow = getattr(request.state, "page_uow", None)
            if uow is None or session.principal is None:
                computed.update(views=[])
            else:
                computed.update(nav_context(uow, session.principal))
        return computed

    return nav


def page_context(request: Request, session: PageSession) -> dict[str, Any]:
    translator = Translator(session.locale)
    flash = request.cookies.get(FLASH_COOKIE)
    return {
        "request": request,
        "principal": session.principal,
        "locale": session.locale,
        "time_zone": session.time_zone,
        "csrf_token": session.csrf_token,
        "_": translator.gettext,
        "gettext": translator.gettext,
        "ngettext": translator.ngettext,
        "now": request.app.state.clock.now(),
        "htmx": is_htmx(request),
        "flash": translator.gettext(unquote(flash)[:300]) if flash else None,
        "nav": _nav(request, session),
        "live_topics": [],
    }


def render(
    request: Request,
    template_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or, for an htmx request, the fragment template the handler chose)."""
    session = fallback_session(request)
    values = page_context(request, session)
    values.update(context or {})
    html = environment().get_template(template_name).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    finish(request, response, session)
    if values["flash"] is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def finish(request: Request, response: Any, session: PageSession) -> None:
    """Set the cookies the visitor's session needs on a page response."""
    if session.issue_csrf_cookie:
        response.set_cookie(
            CSRF_COOKIE,
            session.csrf_token,
            httponly=True,
            samesite="lax",
            secure=is_secure(request),
            path="/",
        )
        session.issue_csrf_cookie = False


def see_other(request: Request, url: str, *, flash: LazyString | None = None) -> RedirectResponse:
    """303 to ``url`` (after a form post), optionally with a message for the next page.

    For htmx requests the answer is ``HX-Redirect`` instead, so the whole page changes.
    """
    if is_htmx(request):
        response: RedirectResponse = RedirectResponse(url, status_code=204)
        del response.headers["location"]
        response.headers["HX-Redirect"] = url
    else:
        response = RedirectResponse(url, status_code=303)
    if flash is not None:
        response.set_cookie(
            FLASH_COOKIE,
            quote(flash.message, safe=""),
            httponly=True,
            samesite="lax",
            secure=is_secure(request),
            max_age=60,
            path="/",
        )
    finish(request, response, fallback_session(request))
    return response
