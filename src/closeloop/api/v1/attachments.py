"""Attachments over HTTP: upload a file to a ticket, read its metadata, download its bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import StreamingResponse

from closeloop.api.deps import AppSettings, CurrentPrincipal, Uow, Via
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import CHUNK_SIZE, AttachmentStore
from closeloop.tickets.schemas import AttachmentRead

router = APIRouter(tags=["attachments"])


def attachment_store(settings: AppSettings) -> AttachmentStore:
    return AttachmentStore(settings.attachments_dir)


Store = Annotated[AttachmentStore, Depends(attachment_store)]


@router.post("/tickets/{ticket_id}/attachments", status_code=201, response_model=AttachmentRead)
def upload_attachment(
    ticket_id: int,
    file: Annotated[UploadFile, File(description="The file, as multipart field `file`.")],
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    settings: AppSettings,
    store: Store,
) -> AttachmentRead:
    """Upload a file; send its id in ``attachment_ids`` of the message that goes with it."""
    attachment = tickets.upload_attachment(
        uow,
        ticket_id=ticket_id,
        filename=file.filename,
        content_type=file.content_type,
        stream=file.file,
        store=store,
        max_bytes=settings.max_attachment_bytes,
        blocked_extensions=settings.blocked_attachment_extensions,
        actor=actor,
        via=via,
    )
    uow.commit()
    return AttachmentRead.of(attachment)


@router.get("/attachments/{attachment_id}", response_model=AttachmentRead)
def read_attachment(attachment_id: int, uow: Uow, actor: CurrentPrincipal) -> AttachmentRead:
    return AttachmentRead.of(tickets.get_attachment(uow, attachment_id=attachment_id, actor=actor))


@router.get(
    "/attachments/{attachment_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}},
)
def download_attachment(
    attachment_id: int, uow: Uow, actor: CurrentPrincipal, store: Store
) -> StreamingResponse:
    """The file itself, always as a download (never rendered by the browser)."""
    attachment, content = tickets.open_attachment(
        uow, attachment_id=attachment_id, actor=actor, store=store
    )
    headers = {
        "Content-Disposition": content_disposition(attachment.filename),
        "Content-Length": str(attachment.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    return StreamingResponse(_chunks(content), media_type=attachment.content_type, headers=headers)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name per RFC 5987/6266."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(content: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := content.read(CHUNK_SIZE):
            yield chunk
    finally:
        content.close()
