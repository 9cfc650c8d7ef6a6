"""What every admin page shares: the form values, inline errors, the audit ``via``, who may see
the pages, and the list of areas the index and the side navigation link to.

The pattern of a form post::

    values = form.values("name", "description")
    try:
        data = SkillCreate(**values)
        management.create_skill(uow, ..., actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return page(..., values=values, errors=form_errors(error, admin.locale), status_code=422)
    uow.commit()
    return see_other(request, "/admin/skills", flash=_("Skill created."))

Pydantic errors become translated messages per field; a service's ``ValidationFailed`` keeps its
fields; any other ``DomainError`` is shown above the form. The values the admin typed go back
into the form, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from closeloop.accounts.domain import Principal
from closeloop.kit.errors import DomainError, NotFound, ValidationFailed
from closeloop.kit.i18n import LazyString, _
from closeloop.web.deps import PageSessionDep, SignInRequired, _next_path

FORM_ERRORS = (ValidationError, DomainError)
NO_STORE = {"Cache-Control": "no-store"}

_MESSAGES: Mapping[str, LazyString] = {
    "missing": _("This field is required."),
    "string_too_short": _("This field is required."),
    "too_short": _("Give at least one."),
    "string_too_long": _("This is too long."),
    "too_long": _("There are too many."),
    "int_parsing": _("Enter a whole number."),
    "int_type": _("Enter a whole number."),
    "float_parsing": _("Enter a number."),
    "float_type": _("Enter a number."),
    "greater_than": _("The number is too small."),
    "greater_than_equal": _("The number is too small."),
    "less_than": _("The number is too large."),
    "less_than_equal": _("The number is too large."),
    "enum": _("Choose one of the options."),
    "literal_error": _("Choose one of the options."),
    "value_error": _("This value is not valid."),
    "date_from_datetime_parsing": _("Enter a date like 2026-10-01."),
    "date_parsing": _("Enter a date like 2026-10-01."),
    "datetime_from_date_parsing": _("Enter a date like 2026-10-01."),
    "string_pattern_mismatch": _("This value is not valid."),
}
_INVALID = _("This value is not valid.")


def via(request: Request) -> str:
    """How a change arrived, for the audit trail: ``web:POST /admin/agents``."""
    return f"web:{request.method} {request.url.path}"


class FormValues:
    """A posted form: single values (stripped), lists (checkboxes, multi-selects)."""

    def __init__(self, data: FormData) -> None:
        self.data = data

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else default

    def raw(self, name: str) -> str:
        """Unstripped (passwords, template bodies)."""
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self.data.getlist(name) if isinstance(v, str) and v.strip()]

    def flag(self, name: str) -> bool:
        return self.get(name) in {"1", "on", "yes", "true"}

    def optional(self, name: str) -> str | None:
        value = self.get(name)
        return value or None

    def values(self, *names: str) -> dict[str, str]:
        return {name: self.get(name) for name in names}

    def given(self, *names: str) -> dict[str, str]:
        """The named fields that are not blank."""
        return {name: value for name in names if (value := self.get(name))}


async def read_form(request: Request) -> FormValues:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return FormValues(await request.form())
    return FormValues(FormData())


PageForm = Annotated[FormValues, Depends(read_form)]


def form_errors(error: Exception, locale: str, *, field: str = "") -> list[dict[str, str]]:
    """Inline errors (``field``, ``message``) for a refused form; ``field`` names where a
    business error without fields is shown ("" = above the form)."""
    if isinstance(error, ValidationError):
        found: list[dict[str, str]] = []
        for item in error.errors(include_url=False):
            # Wrapped types add their own names to the location (``function-after[...]``).
            name = ".".join(
                str(p)
                for p in item.get("loc", ())
                if isinstance(p, int) or ("[" not in p and "-" not in p and p != "str")
            )
            message = _MESSAGES.get(str(item.get("type")), _INVALID).render(locale)
            found.append({"field": name or field, "message": message})
        return found
    if isinstance(error, ValidationFailed):
        return [
            {"field": str(e.get("field", field)), "message": str(e.get("message", ""))}
            for e in error.errors
        ]
    if isinstance(error, DomainError):
        if error.http_status == 404 and not field:
            return [
                {
                    "field": "",
                    "message": _("Something this form names no longer exists.").render(locale),
                }
            ]
        return [{"field": field, "message": error.render(locale)}]
    raise error


def field_error(field: str, message: LazyString, locale: str) -> dict[str, str]:
    return {"field": field, "message": message.render(locale)}


def to_int(value: str) -> int | str:
    """An integer when the text is one; else the text (so the schema reports it)."""
    try:
        return int(value)
    except ValueError:
        return value


def ids(values: Iterable[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


# --- who may see the pages ----------------------------------------------------------------


async def require_admin_or_lead(request: Request, session: PageSessionDep) -> Principal:
    """Admins, and agents who lead a team (the canned responses of their teams)."""
    principal = session.principal
    if principal is None:
        raise SignInRequired(_next_path(request))
    if not (principal.is_agent and (principal.is_admin or principal.led_team_ids)):
        raise NotFound()
    return principal


PageAdminOrLead = Annotated[Principal, Depends(require_admin_or_lead)]


# --- areas --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Area:
    key: str
    href: str
    label: LazyString
    description: LazyString


AREAS: tuple[Area, ...] = (
    Area("agents", "/admin/agents", _("Agents"), _("Accounts, roles, teams, skills, time zone.")),
    Area("teams", "/admin/teams", _("Teams"), _("Names, leads and members.")),
    Area("skills", "/admin/skills", _("Skills"), _("What agents are good at, for routing.")),
    Area("api-tokens", "/admin/api-tokens", _("API tokens"), _("Tokens for scripts; revoke.")),
    Area(
        "custom-fields",
        "/admin/custom-fields",
        _("Custom fields"),
        _("Extra fields per ticket type."),
    ),
    Area(
        "canned-responses",
        "/admin/canned-responses",
        _("Canned responses"),
        _("Shared replies with placeholders and field actions."),
    ),
    Area("sla", "/admin/sla", _("SLA"), _("Business calendars, holidays, policies, targets.")),
    Area("routing", "/admin/routing", _("Routing"), _("Rules, team strategies, classifier.")),
    Area(
        "channels",
        "/admin/channels",
        _("Channels"),
        _("Mailboxes, WeChat, webhooks, CRM, quarantine."),
    ),
)


def area_context(area: str, /, **context: Any) -> dict[str, Any]:
    """The context every admin page passes: the areas and which one is open."""
    return {"areas": AREAS, "current_area": area, **context}
