"""Posting to the conversation: public replies and internal notes with attachments and an
inserted macro, and the original email of a message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import HTMLResponse, Response

from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import _
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.errors import StaleVersion
from closeloop.tickets.macros import service as macros
from closeloop.tickets.schemas import MessageCreate
from closeloop.web.agent.ticket_page import common
from closeloop.web.agent.ticket_page import context as page_data
from closeloop.web.deps import CsrfChecked, PageAgent, PageSessionDep, PageUow, render
from closeloop.web.session import is_htmx
from closeloop.web.templating import see_other

router = APIRouter()


@router.post("/agent/tickets/{ticket_id:int}/messages")
def post_message(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    body: Annotated[str, Form(max_length=100_000)] = "",
    kind: Annotated[MessageKind, Form()] = MessageKind.public_reply,
    version: Annotated[int | None, Form()] = None,
    macro_id: Annotated[int | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, Form()] = None,
) -> Response:
    """Send a reply or a note; the answer is the refreshed thread and an empty reply box (the
    field panel refreshes itself on the ``live-fields`` event the answer triggers)."""
    via = common.via(request)
    settings = request.app.state.settings
    uploads = [f for f in files or [] if isinstance(f, StarletteUpload) and f.filename]
    if macro_id is not None:
        try:
            macros.apply_macro(
                uow,
                macro_id=macro_id,
                ticket_id=ticket_id,
                expected_version=version,
                actor=agent,
                via=via,
            )
        except StaleVersion:
            uow.rollback()
            return _refused(
                request,
                uow,
                ticket_id=ticket_id,
                agent=agent,
                body=body,
                kind=kind,
                message=common.stale_message(
                    uow,
                    ticket_id=ticket_id,
                    actor=agent,
                    locale=session.locale,
                    time_zone=session.time_zone,
                ),
            )
    attachment_ids: list[int] = []
    store = AttachmentStore(settings.attachments_dir)
    for upload in uploads:
        attachment = tickets.upload_attachment(
            uow,
            ticket_id=ticket_id,
            filename=upload.filename,
            content_type=upload.content_type,
            stream=upload.file,
            store=store,
            max_bytes=settings.max_attachment_bytes,
            blocked_extensions=settings.blocked_attachment_extensions,
            actor=agent,
            via=via,
        )
        attachment_ids.append(attachment.id)
    try:
        data = MessageCreate(kind=kind, body=body, attachment_ids=attachment_ids)
    except ValidationError:
        if macro_id is not None:
            # A field-only macro sent without text: its actions are the whole change.
            uow.commit()
            return _refreshed(request, uow, ticket_id=ticket_id, agent=agent)
        uow.rollback()
        return _refused(
            request,
            uow,
            ticket_id=ticket_id,
            agent=agent,
            body=body,
            kind=kind,
            message=_("Write a message or attach a file first.").render(session.locale),
        )
    tickets.add_message(uow, ticket_id=ticket_id, data=data, actor=agent, via=via)
    uow.commit()
    return _refreshed(request, uow, ticket_id=ticket_id, agent=agent, kind=kind)


def _refreshed(
    request: Request,
    uow: PageUow,
    *,
    ticket_id: int,
    agent: PageAgent,
    kind: MessageKind = MessageKind.public_reply,
) -> Response:
    if not is_htmx(request):
        return see_other(request, f"/agent/tickets/{ticket_id}")
    return common.thread_fragment(
        request,
        uow,
        ticket_id=ticket_id,
        actor=agent,
        extra=_reply_context(uow, ticket_id=ticket_id, agent=agent, kind=kind),
        headers={"HX-Trigger": "live-fields"},
    )


def _reply_context(
    uow: PageUow, *, ticket_id: int, agent: PageAgent, kind: MessageKind
) -> dict[str, object]:
    return {
        "reply_form": True,
        "oob": True,
        "kind": kind.value,
        "macros": list(macros.list_macros(uow, actor=agent)),
    }


def _refused(
    request: Request,
    uow: PageUow,
    *,
    ticket_id: int,
    agent: PageAgent,
    body: str,
    kind: MessageKind,
    message: str,
) -> HTMLResponse:
    """The reply box again, with what was written and why it was not sent."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=agent)
    return render(
        request,
        f"{common.TEMPLATES}/_reply.html",
        {
            "ticket": ticket,
            "kind": kind.value,
            "draft": body,
            "reply_error": message,
            "macros": list(macros.list_macros(uow, actor=agent)),
        },
        status_code=409,
        headers={"HX-Retarget": "#reply-form", "HX-Reswap": "outerHTML"},
    )


@router.get("/agent/tickets/{ticket_id:int}/messages/{message_id}/original")
def original_email(
    ticket_id: int, message_id: int, request: Request, uow: PageUow, agent: PageAgent
) -> Response:
    """The raw email a message came from, for agents who may read the ticket."""
    thread = tickets.list_messages(uow, ticket_id=ticket_id, actor=agent)
    if not any(message.id == message_id for message, _files in thread):
        raise NotFound()
    raw = page_data.raw_message(uow, message_id=message_id)
    if raw is None:
        raise NotFound()
    return Response(
        raw,
        media_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="message-{message_id}.eml"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        },
    )
