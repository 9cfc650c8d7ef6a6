"""A new ticket on behalf of a customer (a phone call, a walk-in): ``/agent/tickets/new``.

The agent picks the customer from a search (``/agent/customers/search?q=``, an htmx fragment
of radio buttons inside the form, so picking needs no script) or types a new one's name and
email or phone, then the ticket's fields. The ticket is opened with
``tickets.service.open_ticket`` as the agent; errors come back next to their fields with
everything entered kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal, is_valid_identity
from closeloop.kit.errors import DomainError, NotFound, ValidationFailed
from closeloop.kit.i18n import _
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Channel, Priority, TicketType
from closeloop.tickets.schemas import TicketCreate
from closeloop.web.deps import CsrfChecked, PageAgent, PageSessionDep, PageUow, render, see_other
from closeloop.web.portal import forms

router = APIRouter()

TEMPLATES = "agent/new_ticket"
CHANNELS = (Channel.phone, Channel.web, Channel.email)
SEARCH_LIMIT = 10
_TAG_SPLIT = re.compile(r"[,，;；\s]+")


def _choices(uow: PageUow, agent: Principal) -> dict[str, Any]:
    teams = management.list_teams(uow, actor=agent, is_active=True)
    agents = management.list_agents(uow, actor=agent, is_active=True, limit=100).items
    return {
        "channels": CHANNELS,
        "types": list(TicketType),
        "priorities": list(Priority),
        "teams": teams,
        "agents": agents,
    }


class _Customer(Protocol):
    id: int
    name: str


def _customer_rows(uow: PageUow, customers: Sequence[_Customer]) -> list[dict[str, Any]]:
    identities = accounts.identities_of(uow, [c.id for c in customers]) if customers else []
    rows = []
    for customer in customers:
        own = [i for i in identities if i.customer_id == customer.id]
        rows.append(
            {
                "id": customer.id,
                "name": customer.name,
                "emails": [i.value for i in own if i.kind == IdentityKind.email.value],
                "phones": [i.value for i in own if i.kind == IdentityKind.phone.value],
            }
        )
    return rows


def _page(
    request: Request,
    uow: PageUow,
    agent: Principal,
    locale: str,
    *,
    values: dict[str, str],
    errors: list[dict[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    chosen: list[dict[str, Any]] = []
    if values.get("customer_id", "").isdigit():
        try:
            customer = management.get_customer(
                uow, customer_id=int(values["customer_id"]), actor=agent
            )
        except NotFound:
            customer = None
        if customer is not None:
            chosen = _customer_rows(uow, [customer])
    ticket_type = _ticket_type(values.get("type"))
    context: dict[str, Any] = {
        **_choices(uow, agent),
        "values": values,
        "errors": errors or [],
        "notice": notice,
        "results": chosen,
        "fields": forms.field_inputs(forms.definitions(uow, ticket_type), values, locale),
    }
    return render(request, f"{TEMPLATES}/page.html", context, status_code=status_code)


def _ticket_type(value: str | None) -> TicketType:
    try:
        return TicketType(value or TicketType.inquiry)
    except ValueError:
        return TicketType.inquiry


@router.get("/agent/tickets/new")
def new_ticket_form(
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    customer_id: str | None = None,
) -> Response:
    values = {
        "channel": Channel.phone.value,
        "type": TicketType.inquiry.value,
        "priority": Priority.P3.value,
        # Only an id: the value goes back into the page (and into the search's hx-vals).
        "customer_id": customer_id if customer_id and customer_id.isdigit() else "",
    }
    return _page(request, uow, agent, session.locale, values=values)


@router.get("/agent/tickets/new/fields")
def custom_fields_fragment(
    request: Request, uow: PageUow, agent: PageAgent, session: PageSessionDep, type: str = ""
) -> Response:
    values = {k: v for k, v in request.query_params.items() if k.startswith(forms.FIELD_PREFIX)}
    found = forms.definitions(uow, _ticket_type(type))
    return render(
        request,
        "portal/webform/_custom_fields.html",
        {"fields": forms.field_inputs(found, values, session.locale), "errors": []},
    )


@router.get("/agent/customers/search")
def search_customers(
    request: Request, uow: PageUow, agent: PageAgent, q: str = "", selected: str = ""
) -> Response:
    """Customers whose name, email or phone match ``q``, as radio buttons to pick one."""
    text = q.strip()[:200]
    rows: list[dict[str, Any]] = []
    if text:
        page = management.search_customers(uow, text=text, limit=SEARCH_LIMIT, actor=agent)
        rows = _customer_rows(uow, list(page.items))
    return render(
        request,
        f"{TEMPLATES}/_customer_results.html",
        {"results": rows, "query": text, "values": {"customer_id": selected}},
    )


def _values(form: FormData) -> dict[str, str]:
    names = (
        "customer_id", "q", "new_name", "new_email", "new_phone", "channel", "type",
        "priority", "team_id", "assignee_id", "subject", "tags",
    )  # fmt: skip
    values = {name: forms.text_value(form, name, limit=400) for name in names}
    values["description"] = forms.text_value(form, "description", limit=100_001)
    values.update(forms.entered(form))
    return values


def _optional_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _check(values: dict[str, str], locale: str) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not values["customer_id"].isdigit():
        email, phone = values["new_email"], values["new_phone"]
        if not email and not phone:
            errors.append(
                forms.error(
                    "customer",
                    _("Pick a customer from the search, or enter a new one's email or phone."),
                    locale,
                )
            )
        if email and not is_valid_identity(IdentityKind.email, email):
            errors.append(forms.error("new_email", _("This is not a valid email address."), locale))
        if phone and not is_valid_identity(IdentityKind.phone, phone):
            errors.append(forms.error("new_phone", _("This is not a valid phone number."), locale))
    if values["channel"] not in {c.value for c in CHANNELS}:
        errors.append(forms.error("channel", _("Choose a channel."), locale))
    if values["type"] not in set(TicketType):
        errors.append(forms.error("type", _("Choose a type."), locale))
    if values["priority"] not in set(Priority):
        errors.append(forms.error("priority", _("Choose a priority."), locale))
    if not values["subject"]:
        errors.append(forms.error("subject", _("Enter a subject."), locale))
    elif len(values["subject"]) > 300:
        errors.append(forms.error("subject", _("At most {count} characters."), locale, count=300))
    if len(values["description"]) > 100_000:
        errors.append(
            forms.error("description", _("At most {count} characters."), locale, count=100_000)
        )
    return errors


def _requester(uow: PageUow, values: dict[str, str], agent: Principal, via: str) -> int:
    """The chosen customer, or the one the new email or phone already belongs to, or a new
    customer with both."""
    if values["customer_id"].isdigit():
        return management.get_customer(uow, customer_id=int(values["customer_id"]), actor=agent).id
    email, phone = values["new_email"], values["new_phone"]
    for kind, value in ((IdentityKind.email, email), (IdentityKind.phone, phone)):
        if value:
            found = accounts.find_customer_by_identity(uow, kind, value)
            if found is not None:
                return found.id
    customer = management.create_customer(
        uow,
        name=values["new_name"],
        actor=agent,
        via=via,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
    )
    return customer.id


def _field_name(path: str) -> str:
    if path.startswith("custom_fields."):
        return forms.FIELD_PREFIX + path.removeprefix("custom_fields.")
    return {"assignee_id": "assignee_id", "team_id": "team_id"}.get(path, "form")


@router.post("/agent/tickets/new")
async def create_ticket(
    request: Request, uow: PageUow, agent: PageAgent, session: PageSessionDep, _csrf: CsrfChecked
) -> Response:
    locale = session.locale
    form = await request.form()
    values = _values(form)
    errors = _check(values, locale)
    ticket_type = _ticket_type(values["type"])
    found = forms.definitions(uow, ticket_type)
    custom_values, field_errors = forms.parse_custom_fields(found, values, locale)
    errors.extend(field_errors)
    if errors:
        return _page(request, uow, agent, locale, values=values, errors=errors, status_code=422)
    via = forms.via(request)
    tags = [t for t in _TAG_SPLIT.split(values["tags"]) if t][:30]
    try:
        requester_id = _requester(uow, values, agent, via)
        ticket = tickets.open_ticket(
            uow,
            data=TicketCreate(
                subject=values["subject"],
                description=values["description"],
                type=ticket_type,
                priority=Priority(values["priority"]),
                channel=Channel(values["channel"]),
                requester_id=requester_id,
                team_id=_optional_id(values["team_id"]),
                assignee_id=_optional_id(values["assignee_id"]),
                tags=[t[:64] for t in tags],
                custom_fields=custom_values,
            ),
            actor=agent,
            via=via,
        )
    except ValidationFailed as failed:
        uow.rollback()
        problems = [
            {"field": _field_name(str(e.get("field", ""))), "message": str(e.get("message", ""))}
            for e in failed.errors
        ]
        return _page(
            request,
            uow,
            agent,
            locale,
            values=values,
            errors=problems,
            notice=failed.render(locale),
            status_code=422,
        )
    except DomainError as refused:
        uow.rollback()
        return _page(
            request,
            uow,
            agent,
            locale,
            values=values,
            notice=refused.render(locale),
            status_code=refused.http_status if refused.http_status != 404 else 422,
        )
    uow.commit()
    return see_other(request, f"/agent/tickets/{ticket.id}", flash=_("Ticket created."))
