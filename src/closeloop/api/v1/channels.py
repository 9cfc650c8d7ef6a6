"""The inbound pipeline over JSON, for administrators: the quarantine and raw messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from closeloop.api.deps import AdminPrincipal, AppSettings, Uow, Via
from closeloop.api.problems import request_locale
from closeloop.channels import service as channel_service
from closeloop.channels.schemas import InboundPage, InboundRead, IngestResultRead
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from closeloop.tickets.attachment_store import CHUNK_SIZE

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("/quarantine", response_model=InboundPage)
def list_quarantine(
    request: Request,
    uow: Uow,
    actor: AdminPrincipal,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> InboundPage:
    """Messages the pipeline could not take, newest first, with the reason."""
    page = channel_service.list_quarantine(uow, actor=actor, cursor=cursor, limit=limit)
    locale = request_locale(request)
    return InboundPage(
        items=[InboundRead.of(row, locale) for row in page.items], next_cursor=page.next_cursor
    )


@router.post("/quarantine/{inbound_id}/release", response_model=IngestResultRead)
def release_quarantined(
    inbound_id: int, uow: Uow, actor: AdminPrincipal, via: Via, settings: AppSettings
) -> IngestResultRead:
    """Take the message again through the whole pipeline; the answer says what became of it
    (it may be quarantined again, with the new reason)."""
    result = channel_service.release_quarantined(
        uow,
        inbound_id=inbound_id,
        actor=actor,
        via=via,
        settings=channel_service.IngestSettings.from_settings(settings),
    )
    uow.commit()
    return IngestResultRead.of(result)


@router.post("/quarantine/{inbound_id}/discard", response_model=InboundRead)
def discard_quarantined(
    request: Request, inbound_id: int, uow: Uow, actor: AdminPrincipal, via: Via
) -> InboundRead:
    """Give up on the message; the channel delivering it again changes nothing."""
    row = channel_service.discard_quarantined(uow, inbound_id=inbound_id, actor=actor, via=via)
    uow.commit()
    return InboundRead.of(row, request_locale(request))


@router.get(
    "/inbound/{inbound_id}/raw",
    response_class=StreamingResponse,
    responses={200: {"content": {"message/rfc822": {}}, "description": "The raw message."}},
)
def download_raw(
    inbound_id: int, uow: Uow, actor: AdminPrincipal, settings: AppSettings
) -> StreamingResponse:
    """The message exactly as it arrived, as a download."""
    row, content = channel_service.open_raw_message(
        uow,
        inbound_id=inbound_id,
        actor=actor,
        settings=channel_service.IngestSettings.from_settings(settings),
    )
    headers = {
        "Content-Disposition": f'attachment; filename="inbound-{row.id}.eml"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    return StreamingResponse(_chunks(content), media_type="message/rfc822", headers=headers)


def _chunks(content: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := content.read(CHUNK_SIZE):
            yield chunk
    finally:
        content.close()
