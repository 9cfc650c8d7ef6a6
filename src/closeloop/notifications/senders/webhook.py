"""Generic signed webhook: a JSON document POSTed to the channel's URL.

Headers: ``X-Closeloop-Event``, ``X-Closeloop-Delivery`` (the idempotency key: receivers drop
repeats), ``X-Closeloop-Timestamp`` (unix seconds) and, when the channel has a secret,
``X-Closeloop-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">``. Any 2xx answer
is success.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from closeloop.notifications.senders.base import ChatMessage, encode, post_json
from closeloop.notifications.signing import unix_seconds, webhook_signature


def payload(message: ChatMessage, now: datetime) -> dict[str, Any]:
    return {
        "id": message.delivery_key,
        "event": message.event,
        "occurred_at": now.isoformat(),
        "ticket_id": message.ticket_id,
        "title": message.title,
        "body": message.body,
        "link": message.link,
        "params": dict(message.params),
    }


def headers(message: ChatMessage, body: bytes, secret: str | None, now: datetime) -> dict[str, str]:
    timestamp = unix_seconds(now)
    found = {
        "X-Closeloop-Event": message.event,
        "X-Closeloop-Delivery": message.delivery_key,
        "X-Closeloop-Timestamp": str(timestamp),
    }
    if secret:
        found["X-Closeloop-Signature"] = webhook_signature(secret, timestamp, body)
    return found


def send(
    client: httpx.Client, *, url: str, secret: str | None, message: ChatMessage, now: datetime
) -> None:
    body = encode(payload(message, now))
    post_json(client, url, body, headers(message, body, secret, now))
