"""WeCom group robot (企业微信群机器人): markdown message to the webhook URL, no signature.

The webhook URL carries the robot's ``key``; the answer is ``{"errcode": 0, "errmsg": "ok"}``
on success and a non-zero ``errcode`` otherwise (HTTP 200 either way).
"""

from __future__ import annotations

from datetime import datetime

import httpx

from closeloop.notifications.senders.base import ChatMessage, encode, post_json, require_zero

# WeCom refuses markdown content longer than 4096 bytes (errcode 40058).
MAX_CONTENT_BYTES = 4096


def truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - len("…".encode())].decode(errors="ignore") + "…"


def payload(message: ChatMessage) -> dict[str, object]:
    content = truncate_utf8(message.markdown(), MAX_CONTENT_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def send(
    client: httpx.Client, *, url: str, secret: str | None, message: ChatMessage, now: datetime
) -> None:
    answer = post_json(client, url, encode(payload(message)), {})
    require_zero(answer, "errcode", "errmsg")
