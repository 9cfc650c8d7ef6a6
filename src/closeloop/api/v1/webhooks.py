"""Signed webhook intake (public: the signature is the credential) and, for administrators,
the sources allowed to post. Format and examples: docs/subsystems/channels-webhook.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from closeloop.api.deps import AdminPrincipal, AppSettings, Uow, Via
from closeloop.channels import service as channel_service
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.webhook import service as webhooks
from closeloop.channels.webhook.schemas import (
    IntakePayload,
    IntakeResult,
    SecretRotation,
    SourceCreate,
    SourceRead,
    SourceUpdate,
    SourceWithSecret,
    parse_payload,
)
from closeloop.kit.ids import format_ticket_number

router = APIRouter(prefix="/channels", tags=["channels: webhook"])
_NO_STORE = {"Cache-Control": "no-store"}


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes."""
    return await request.body()


def _payload(body: bytes) -> IntakePayload:
    try:
        return parse_payload(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_url=False)]
        ) from error
    except ValueError as error:
        raise RequestValidationError(
            [{"loc": ("body",), "type": "json_invalid", "msg": str(error) or "invalid JSON"}]
        ) from error


_INTAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Already taken before (the same external_id): the same ticket."},
    202: {"description": "Taken: a reply on an existing ticket (or set aside)."},
    401: {"description": "Signature missing, wrong or outside the replay window."},
    404: {"description": "No active source at this address."},
    422: {"description": "The body is not a valid message or call record."},
}


@router.post(
    "/webhook/{slug}",
    status_code=201,
    response_model=IntakeResult,
    responses=_INTAKE_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": 'A message, or a call record with "type": "call". '
            "Signed: X-Closeloop-Signature: t=<unix>,v1=<hex HMAC-SHA256>.",
        }
    },
)
def receive(
    slug: str,
    body: Annotated[bytes, Depends(raw_body)],
    uow: Uow,
    settings: AppSettings,
    signature: Annotated[str | None, Header(alias="X-Closeloop-Signature")] = None,
) -> JSONResponse:
    """Take a message or a call record from a configured source (no bearer token: the body's
    signature proves the sender)."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    source = webhooks.verify_request(uow, slug=slug, header=signature, body=body, cipher=cipher)
    received = webhooks.receive(
        uow,
        source=source,
        payload=_payload(body),
        max_attachment_bytes=settings.max_attachment_bytes,
        ingest_settings=channel_service.IngestSettings.from_settings(settings),
    )
    uow.commit()
    ticket_id = received.result.ticket_id
    answer = IntakeResult(
        ticket_id=ticket_id,
        number=format_ticket_number(ticket_id) if ticket_id is not None else None,
        outcome=received.result.outcome.value,
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=received.status_code)


@router.get("/webhook-sources", response_model=list[SourceRead])
def list_sources(uow: Uow, actor: AdminPrincipal) -> list[SourceRead]:
    """Webhook sources (administrators). Secrets are never shown again after creation."""
    return [SourceRead.of(s) for s in webhooks.list_sources(uow, actor=actor)]


@router.post("/webhook-sources", status_code=201, response_model=SourceWithSecret)
def create_source(
    data: SourceCreate,
    response: Response,
    uow: Uow,
    actor: AdminPrincipal,
    via: Via,
    settings: AppSettings,
) -> SourceWithSecret:
    """Add a source; its signing secret is in this answer only."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    source, secret = webhooks.create_source(uow, data=data, cipher=cipher, actor=actor, via=via)
    uow.commit()
    response.headers.update(_NO_STORE)
    return SourceWithSecret(**SourceRead.of(source).model_dump(), secret=secret)


@router.get("/webhook-sources/{source_id}", response_model=SourceRead)
def get_source(source_id: int, uow: Uow, actor: AdminPrincipal) -> SourceRead:
    return SourceRead.of(webhooks.get_source(uow, source_id=source_id, actor=actor))


@router.patch("/webhook-sources/{source_id}", response_model=SourceRead)
def update_source(
    source_id: int, data: SourceUpdate, uow: Uow, actor: AdminPrincipal, via: Via
) -> SourceRead:
    """Rename, switch off, change the channel, team or replay window (the slug is fixed)."""
    source = webhooks.update_source(uow, source_id=source_id, data=data, actor=actor, via=via)
    uow.commit()
    return SourceRead.of(source)


@router.delete("/webhook-sources/{source_id}", status_code=204)
def delete_source(source_id: int, uow: Uow, actor: AdminPrincipal, via: Via) -> Response:
    webhooks.delete_source(uow, source_id=source_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post("/webhook-sources/{source_id}/rotate-secret", response_model=SourceWithSecret)
def rotate_secret(
    source_id: int,
    data: SecretRotation,
    response: Response,
    uow: Uow,
    actor: AdminPrincipal,
    via: Via,
    settings: AppSettings,
) -> SourceWithSecret:
    """A new secret, in this answer only; the old one keeps working for
    ``keep_previous_seconds`` (default a day) so senders can switch over."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    source, secret = webhooks.rotate_secret(
        uow,
        source_id=source_id,
        keep_previous_seconds=data.keep_previous_seconds,
        cipher=cipher,
        actor=actor,
        via=via,
    )
    uow.commit()
    response.headers.update(_NO_STORE)
    return SourceWithSecret(**SourceRead.of(source).model_dump(), secret=secret)
