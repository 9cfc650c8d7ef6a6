"""The public web form (``/forms/new``): anyone writes in without signing in.

A submitted form becomes an ``InboundMessage`` of the channel ``web`` and goes through
``channels.service.ingest`` like an email would. Its external id is a uuid4 made when the form
was shown and carried in a hidden field: posting the same form twice (a double click, a
browser retry) is the same message, which ingest answers ``duplicate``, and the visitor sees
the same confirmation. Limits per email address and per IP address come from the settings
(``webform_tickets_per_address``, ``webform_tickets_per_ip``, per hour); a filled honeypot
field is answered with a plain thank-you page and nothing is stored.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from closeloop.accounts import service as accounts
from closeloop.accounts import throttle
from closeloop.accounts.domain import IdentityKind, is_valid_identity
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, IngestOutcome, SenderIdentity
from closeloop.config import Settings
from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number, parse_ticket_number
from closeloop.kit.logging import get_logger
from closeloop.tickets.customer_links import customer_link_path, verify_customer_link
from closeloop.tickets.domain import Channel, TicketType
from closeloop.web.deps import CsrfChecked, PageSessionDep, PageUow, render, see_other
from closeloop.web.portal import forms

log = get_logger(__name__)
router = APIRouter()

TEMPLATES = "portal/webform"
HONEYPOT = "website"
WINDOW = timedelta(hours=1)
MAX_NAME = 200
MAX_SUBJECT = 300
MAX_DESCRIPTION = 20_000
_LIMITED = _(
    "You have sent many requests in the last hour. Please wait a while before sending another "
    "one, or reply to one you already sent."
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _ticket_type(value: str | None) -> TicketType:
    try:
        return TicketType(value or TicketType.inquiry)
    except ValueError:
        return TicketType.inquiry


def _team_id(uow: PageUow, value: str | None) -> int | None:
    """The team named by ``?team=`` when it exists; otherwise none (routing decides)."""
    if not value or not value.strip().isdigit():
        return None
    team_id = int(value)
    try:
        accounts.get_team(uow, team_id)
    except NotFound:
        return None
    return team_id


def _page(
    request: Request,
    uow: PageUow,
    locale: str,
    *,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    ticket_type = _ticket_type(values.get("type"))
    definitions = forms.definitions(uow, ticket_type)
    context: dict[str, Any] = {
        "values": values,
        "errors": errors or [],
        "notice": notice,
        "types": list(TicketType),
        "fields": forms.field_inputs(definitions, values, locale),
        "honeypot": HONEYPOT,
        "max_files": forms.MAX_FILES,
        "max_megabytes": round(_settings(request).max_attachment_bytes / 1024 / 1024, 1),
    }
    return render(request, f"{TEMPLATES}/form.html", context, status_code=status_code)


@router.get("/forms/new")
def new_form(
    request: Request,
    uow: PageUow,
    session: PageSessionDep,
    team: str | None = None,
    type: str | None = None,
) -> Response:
    team_id = _team_id(uow, team)
    values = {
        "form_id": str(uuid.uuid4()),
        "type": _ticket_type(type).value,
        "team": str(team_id) if team_id is not None else "",
    }
    return _page(request, uow, session.locale, values=values)


@router.get("/forms/new/fields")
def custom_fields_fragment(
    request: Request, uow: PageUow, session: PageSessionDep, type: str | None = None
) -> Response:
    """The custom fields of the chosen type (htmx swaps them in when the type changes), keeping
    what was entered in fields the types share."""
    ticket_type = _ticket_type(type)
    values = {k: v for k, v in request.query_params.items() if k.startswith(forms.FIELD_PREFIX)}
    definitions = forms.definitions(uow, ticket_type)
    return render(
        request,
        f"{TEMPLATES}/_custom_fields.html",
        {"fields": forms.field_inputs(definitions, values, session.locale), "errors": []},
    )


def _form_values(form: FormData) -> dict[str, str]:
    values = {
        "form_id": forms.text_value(form, "form_id", limit=64),
        "name": forms.text_value(form, "name", limit=MAX_NAME),
        "email": forms.text_value(form, "email", limit=254),
        "phone": forms.text_value(form, "phone", limit=40),
        "type": forms.text_value(form, "type", limit=20),
        "team": forms.text_value(form, "team", limit=20),
        "subject": forms.text_value(form, "subject", limit=MAX_SUBJECT + 1),
        "description": forms.text_value(form, "description", limit=MAX_DESCRIPTION + 1),
    }
    values.update(forms.entered(form))
    return values


def _check(values: dict[str, str], locale: str) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not values["name"]:
        errors.append(forms.error("name", _("Tell us your name."), locale))
    if not values["email"]:
        errors.append(forms.error("email", _("Enter your email address."), locale))
    elif not is_valid_identity(IdentityKind.email, values["email"]):
        errors.append(forms.error("email", _("This is not a valid email address."), locale))
    if values["phone"] and not is_valid_identity(IdentityKind.phone, values["phone"]):
        errors.append(forms.error("phone", _("This is not a valid phone number."), locale))
    if values["type"] not in set(TicketType):
        errors.append(forms.error("type", _("Choose what this is about."), locale))
    if not values["subject"]:
        errors.append(forms.error("subject", _("Enter a subject."), locale))
    elif len(values["subject"]) > MAX_SUBJECT:
        errors.append(
            forms.error("subject", _("At most {count} characters."), locale, count=MAX_SUBJECT)
        )
    if not values["description"]:
        errors.append(forms.error("description", _("Describe your request."), locale))
    elif len(values["description"]) > MAX_DESCRIPTION:
        errors.append(
            forms.error(
                "description", _("At most {count} characters."), locale, count=MAX_DESCRIPTION
            )
        )
    return errors


def _form_id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


@router.post("/forms/new")
async def submit_form(
    request: Request, uow: PageUow, session: PageSessionDep, _csrf: CsrfChecked
) -> Response:
    settings = _settings(request)
    locale = session.locale
    form = await request.form()
    values = _form_values(form)
    if forms.text_value(form, HONEYPOT):
        # A bot filled the field people never see: thank it and keep nothing.
        log.info("webform.honeypot", address=forms.client_address(request))
        return see_other(request, "/forms/received")
    form_id = _form_id(values["form_id"])
    if form_id is None:
        values["form_id"] = str(uuid.uuid4())
        form_id = values["form_id"]
    errors = _check(values, locale)
    ticket_type = _ticket_type(values["type"])
    definitions = forms.definitions(uow, ticket_type)
    custom_values, field_errors = forms.parse_custom_fields(definitions, values, locale)
    errors.extend(field_errors)
    checked = await forms.check_files(forms.uploads(form), settings, locale)
    errors.extend(checked.errors)
    if errors:
        return _page(request, uow, locale, values=values, errors=errors, status_code=422)

    address_key = throttle.account_key("webform:address", values["email"])
    ip_key = throttle.account_key("webform:ip", forms.client_address(request))
    limited = throttle.exceeded(
        uow, key=address_key, limit=settings.webform_tickets_per_address, window=WINDOW
    ) or throttle.exceeded(uow, key=ip_key, limit=settings.webform_tickets_per_ip, window=WINDOW)
    sender = SenderIdentity(IdentityKind.email, values["email"], values["name"])
    others = (
        (SenderIdentity(IdentityKind.phone, values["phone"], values["name"]),)
        if values["phone"]
        else ()
    )
    message = InboundMessage(
        channel=Channel.web,
        external_id=form_id,
        sender=sender,
        other_identities=others,
        subject=values["subject"],
        body_text=values["description"],
        received_at=uow.clock.now(),
        attachments=tuple(checked.attachments),
        team_id=_team_id(uow, values["team"]),
        ticket_type=ticket_type,
        custom_fields=custom_values,
        metadata={"form": "web", "locale": locale},
    )
    result = channel_service.ingest(uow, message, via=forms.via(request))
    if result.outcome is not IngestOutcome.duplicate:
        if limited:
            # Over the limit: only a form taken before (a retry) is still answered; ingest
            # told us this one is new, so none of it is kept.
            uow.rollback()
            return _page(
                request,
                uow,
                locale,
                values=values,
                notice=_LIMITED.render(locale),
                status_code=429,
            )
        throttle.count_hit(uow, key=address_key, window=WINDOW)
        throttle.count_hit(uow, key=ip_key, window=WINDOW)
    uow.commit()
    log.info("webform.submitted", outcome=result.outcome.value, ticket_id=result.ticket_id)
    if result.ticket_id is None:
        return see_other(request, "/forms/received")
    link = customer_link_path(settings.secret_key.get_secret_value(), result.ticket_id)
    return see_other(request, "/forms/done" + link.removeprefix("/t"))


@router.get("/forms/done/{number}/{token}")
def confirmation(
    request: Request, uow: PageUow, session: PageSessionDep, number: str, token: str
) -> Response:
    """The ticket number and the private link; the acknowledgement email is on its way."""
    settings = _settings(request)
    ticket_id = parse_ticket_number(number)
    secret = settings.secret_key.get_secret_value()
    if (
        ticket_id is None
        or format_ticket_number(ticket_id) != number
        or not verify_customer_link(secret, ticket_id, token)
    ):
        raise NotFound()
    link = customer_link_path(secret, ticket_id)
    return render(
        request,
        f"{TEMPLATES}/confirmation.html",
        {
            "number": number,
            "link": link,
            "absolute_link": settings.public_base_url.rstrip("/") + link,
        },
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"},
    )


@router.get("/forms/received")
def received(request: Request, session: PageSessionDep) -> Response:
    """What a message that did not become a ticket right away (and a bot) is told."""
    return render(request, f"{TEMPLATES}/received.html", {})
