"""ASGI middleware of the HTTP layer."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from closeloop.kit.i18n import _, negotiate_locale


class BodySizeLimit:
    """Refuse bodies over the limit with 413 before the application reads them whole.

    Multipart uploads (attachments) get their own, larger limit.
    """

    def __init__(self, app: ASGIApp, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        is_upload = headers.get("content-type", "").startswith("multipart/form-data")
        # Room for the multipart framing around the file itself.
        limit = self.upload_limit + 64 * 1024 if is_upload else self.json_limit
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, limit, headers.get("accept-language"))
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, send, limit, headers.get("accept-language"))


class _BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")


async def _too_large(scope: Scope, send: Send, limit: int, accept_language: str | None) -> None:
    locale = negotiate_locale(accept_language, default="en")
    body = json.dumps(
        {
            "type": "urn:closeloop:problem:request.too_large",
            "title": _("Request too large").render(locale),
            "status": 413,
            "detail": _("The request body is larger than the limit of {limit} bytes.").render(
                locale, limit=limit
            ),
            "instance": scope.get("path", ""),
            "code": "request.too_large",
            "limit": limit,
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
