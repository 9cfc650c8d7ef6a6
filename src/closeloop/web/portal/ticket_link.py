"""The customer's private link to a ticket (``/t/TK-000123/<token>``): no sign-in.

The token (``tickets.customer_links``) proves the link was made by us for this ticket; a wrong
token answers the same 404 page as a ticket that does not exist. The page acts as the ticket's
requester: everything it shows and does goes through the tickets service with that customer as
the actor, so internal notes are never read and only the customer's own actions are allowed
(confirm a resolution, reopen it). Replies go through ``channels.service.ingest`` (channel
``portal``, the external id a uuid made when the page was shown), so a reply on a resolved
ticket reopens it and one on a closed ticket opens a follow-up, as by email.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Form, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from closeloop.accounts import service as accounts
from closeloop.accounts import throttle
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, IngestOutcome, SenderIdentity
from closeloop.config import Settings
from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import LazyString, _
from closeloop.kit.ids import format_ticket_number, parse_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import CHUNK_SIZE, AttachmentStore
from closeloop.tickets.customer_links import customer_link_path, verify_customer_link
from closeloop.tickets.domain import Channel, MessageKind, TicketStatus
from closeloop.tickets.schemas import TicketRead
from closeloop.web.deps import CsrfChecked, PageSessionDep, PageUow, render, see_other
from closeloop.web.portal import forms

router = APIRouter()

TEMPLATES = "portal/ticket"
WINDOW = timedelta(hours=1)
LINK = "/t/{number}/{token}"
# The token is in the address: never send it on in a Referer, never keep the page in a cache.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"}

# What a customer reads for each status: plain words about what happens next.
CUSTOMER_STATUS: dict[str, LazyString] = {
    TicketStatus.new: _("Received"),
    TicketStatus.open: _("Being handled"),
    TicketStatus.in_progress: _("Being handled"),
    TicketStatus.pending: _("Waiting for your reply"),
    TicketStatus.resolved: _("Solved: please confirm"),
    TicketStatus.closed: _("Closed"),
}
_WAITING_ELSEWHERE = _("Waiting for a third party")
_FOLLOW_UP = _("Your request was closed, so we opened a new one for your message.")
_LIMITED = _("You have sent many replies in the last hour. Please wait a while and try again.")


@dataclass(frozen=True, slots=True)
class Visit:
    """A verified link: the ticket as its requester sees it, and the requester."""

    ticket: TicketRead
    customer: Principal
    base: str


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secret(request: Request) -> str:
    return _settings(request).secret_key.get_secret_value()


def _visit(request: Request, uow: PageUow, number: str, token: str) -> Visit:
    """The ticket of a valid link; anything else is the 404 page (the same for a wrong token
    as for a missing ticket)."""
    ticket_id = parse_ticket_number(number)
    if (
        ticket_id is None
        or format_ticket_number(ticket_id) != number
        or not verify_customer_link(_secret(request), ticket_id, token)
    ):
        raise NotFound()
    try:
        found = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    except NotFound:
        raise NotFound() from None
    customer = accounts.principal_for_customer_id(uow, found.requester_id)
    if customer is None:
        raise NotFound()
    ticket = TicketRead.of(tickets.get_ticket(uow, ticket_id=ticket_id, actor=customer))
    return Visit(ticket=ticket, customer=customer, base=LINK.format(number=number, token=token))


def _status_text(ticket: TicketRead, locale: str) -> str:
    if ticket.status == TicketStatus.pending and ticket.pending_reason == "third_party":
        return _WAITING_ELSEWHERE.render(locale)
    return CUSTOMER_STATUS[ticket.status].render(locale)


def _thread(uow: PageUow, visit: Visit) -> list[dict[str, Any]]:
    """The public conversation (the service leaves internal notes out for customers)."""
    thread = tickets.list_messages(uow, ticket_id=visit.ticket.id, actor=visit.customer)
    agent_ids = [m.author_agent_id for m, _files in thread if m.author_agent_id is not None]
    agents = accounts.agents_by_id(uow, agent_ids) if agent_ids else {}
    entries: list[dict[str, Any]] = []
    for message, attachments in thread:
        kind = MessageKind(message.kind)
        if not kind.is_public:  # never, for a customer; kept as a second lock
            continue
        from_us = kind is MessageKind.public_reply
        author = agents.get(message.author_agent_id or 0)
        entries.append(
            {
                "message": message,
                "from_us": from_us,
                "author": author.name if from_us and author is not None else None,
                "attachments": attachments,
            }
        )
    return entries


def _context(request: Request, uow: PageUow, visit: Visit, locale: str) -> dict[str, Any]:
    ticket = visit.ticket
    survivor = None
    if ticket.merged_into_id is not None:
        survivor = customer_link_path(_secret(request), ticket.merged_into_id)
    return {
        "ticket": ticket,
        "number": format_ticket_number(ticket.id),
        "base": visit.base,
        "status_text": _status_text(ticket, locale),
        "thread": _thread(uow, visit),
        "is_resolved": ticket.status == TicketStatus.resolved and survivor is None,
        "is_closed": ticket.status == TicketStatus.closed,
        "survivor_link": survivor,
        "form_id": str(uuid.uuid4()),
        "draft": "",
        "errors": [],
        "notice": None,
        "max_files": forms.MAX_FILES,
    }


@router.get("/t/{number}/{token}")
def ticket_page(
    request: Request, uow: PageUow, session: PageSessionDep, number: str, token: str
) -> Response:
    visit = _visit(request, uow, number, token)
    return render(
        request,
        f"{TEMPLATES}/page.html",
        _context(request, uow, visit, session.locale),
        headers=PRIVATE_HEADERS,
    )


@router.get("/t/{number}/{token}/thread")
def thread_fragment(
    request: Request, uow: PageUow, session: PageSessionDep, number: str, token: str
) -> Response:
    """The conversation alone, polled every 30 s by the page for new replies."""
    visit = _visit(request, uow, number, token)
    return render(
        request,
        f"{TEMPLATES}/_thread.html",
        {"thread": _thread(uow, visit), "base": visit.base},
    )


def _sender(uow: PageUow, customer: Principal) -> SenderIdentity:
    """The requester as a sender: one of their identities (email first), so the pipeline
    recognises them and lets them write to their ticket."""
    assert customer.id is not None
    identities = list(accounts.identities_of(uow, [customer.id]))
    identities.sort(key=lambda i: (i.kind != IdentityKind.email.value, not i.is_primary, i.id))
    if not identities:
        raise NotFound()
    chosen = identities[0]
    return SenderIdentity(IdentityKind(chosen.kind), chosen.value, customer.name)


@router.post("/t/{number}/{token}/reply")
async def reply(
    request: Request, uow: PageUow, session: PageSessionDep, _csrf: CsrfChecked, number: str,
    token: str,
) -> Response:  # fmt: skip
    settings = _settings(request)
    locale = session.locale
    visit = _visit(request, uow, number, token)
    form = await request.form()
    body = forms.text_value(form, "body")
    try:
        form_id = str(uuid.UUID(forms.text_value(form, "form_id", limit=64)))
    except ValueError:
        form_id = str(uuid.uuid4())
    checked = await forms.check_files(forms.uploads(form), settings, locale)
    errors = list(checked.errors)
    if not body and not checked.attachments and not errors:
        errors.append(forms.error("body", _("Write a message or attach a file first."), locale))
    if errors:
        return _refused(request, uow, visit, locale, body=body, form_id=form_id, errors=errors)
    ticket = visit.ticket
    key = f"portal:reply:{ticket.id}"
    limited = throttle.exceeded(
        uow, key=key, limit=settings.portal_replies_per_ticket, window=WINDOW
    )
    message = InboundMessage(
        channel=Channel.portal,
        external_id=form_id,
        sender=_sender(uow, visit.customer),
        subject=ticket.subject,
        body_text=body,
        received_at=uow.clock.now(),
        attachments=tuple(checked.attachments),
        ticket_id=ticket.id,
        team_id=ticket.team_id,
        ticket_type=ticket.type,
        custom_fields=dict(ticket.custom_fields),
        metadata={"form": "portal"},
    )
    result = channel_service.ingest(uow, message, via=forms.via(request))
    if result.outcome is not IngestOutcome.duplicate:
        if limited:
            uow.rollback()
            return _refused(
                request,
                uow,
                visit,
                locale,
                body=body,
                form_id=form_id,
                errors=[],
                notice=_LIMITED.render(locale),
                status_code=429,
            )
        throttle.count_hit(uow, key=key, window=WINDOW)
    uow.commit()
    if result.ticket_id is not None and result.ticket_id != ticket.id:
        # A follow-up of a closed ticket (or the ticket it was merged into): its own link.
        link = customer_link_path(_secret(request), result.ticket_id)
        if result.outcome is IngestOutcome.follow_up_opened or visit.ticket.merged_into_id is None:
            return see_other(request, link, flash=_FOLLOW_UP)
        return see_other(request, link, flash=_("Your reply was sent."))
    if result.outcome in (IngestOutcome.quarantined, IngestOutcome.ignored):
        return see_other(
            request, visit.base, flash=_("We received your message and will look at it.")
        )
    return see_other(request, visit.base + "#reply", flash=_("Your reply was sent."))


def _refused(
    request: Request,
    uow: PageUow,
    visit: Visit,
    locale: str,
    *,
    body: str,
    form_id: str,
    errors: list[dict[str, str]],
    notice: str | None = None,
    status_code: int = 422,
) -> Response:
    context = _context(request, uow, visit, locale)
    context.update(draft=body, form_id=form_id, errors=errors, notice=notice)
    return render(
        request, f"{TEMPLATES}/page.html", context, status_code=status_code, headers=PRIVATE_HEADERS
    )


def _transition(
    request: Request, uow: PageUow, visit: Visit, target: TicketStatus, version: int | None
) -> None:
    tickets.transition(
        uow,
        ticket_id=visit.ticket.id,
        target=target,
        pending_reason=None,
        expected_version=version if version is not None else visit.ticket.version,
        actor=visit.customer,
        via=forms.via(request),
    )
    uow.commit()


@router.post("/t/{number}/{token}/confirm")
def confirm_solved(
    request: Request,
    uow: PageUow,
    _csrf: CsrfChecked,
    number: str,
    token: str,
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """The customer confirms the resolution: the ticket closes."""
    visit = _visit(request, uow, number, token)
    _transition(request, uow, visit, TicketStatus.closed, version)
    return see_other(
        request, visit.base, flash=_("Thank you for confirming. The request is closed.")
    )


@router.post("/t/{number}/{token}/reopen")
def reopen(
    request: Request,
    uow: PageUow,
    _csrf: CsrfChecked,
    number: str,
    token: str,
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Not solved after all: the ticket opens again (tell us why in a reply)."""
    visit = _visit(request, uow, number, token)
    _transition(request, uow, visit, TicketStatus.open, version)
    return see_other(
        request,
        visit.base + "#reply",
        flash=_("The request is open again. Tell us below what is still wrong."),
    )


@router.get("/t/{number}/{token}/attachments/{attachment_id}")
def download(
    request: Request, uow: PageUow, number: str, token: str, attachment_id: int
) -> StreamingResponse:
    """A file of a public message of this ticket, always as a download."""
    visit = _visit(request, uow, number, token)
    store = AttachmentStore(_settings(request).attachments_dir)
    attachment, content = tickets.open_attachment(
        uow, attachment_id=attachment_id, actor=visit.customer, store=store
    )
    if attachment.ticket_id != visit.ticket.id or attachment.message_id is None:
        content.close()
        raise NotFound()
    headers = {
        "Content-Disposition": forms.content_disposition(attachment.filename),
        "Content-Length": str(attachment.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    return StreamingResponse(_chunks(content), media_type=attachment.content_type, headers=headers)


def _chunks(content: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := content.read(CHUNK_SIZE):
            yield chunk
    finally:
        content.close()
