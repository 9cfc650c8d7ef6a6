"""What every chat-bot sender shares: the message to post, and how an answer is judged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from closeloop.notifications.errors import DeliveryFailed

# Connect quickly or give up; a bot that answers slower than this is retried later.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "closeloop-notifications/1"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A rendered notification for a channel: what the bot posts into the group."""

    event: str
    title: str
    body: str
    delivery_key: str
    link: str | None = None
    ticket_id: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        text = f"**{self.title}**\n\n{self.body}"
        if self.link:
            text += f"\n\n[{self.link}]({self.link})"
        return text


class ChatSender(Protocol):
    def __call__(
        self,
        client: httpx.Client,
        *,
        url: str,
        secret: str | None,
        message: ChatMessage,
        now: datetime,
    ) -> None: ...


def new_client() -> httpx.Client:
    return httpx.Client(timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT})


def post_json(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """POST ``body``; a transport error or a non-2xx status is a failed delivery."""
    try:
        response = client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
    except httpx.HTTPError as error:
        raise DeliveryFailed(reason=f"{type(error).__name__}: {error}") from error
    if not response.is_success:
        raise DeliveryFailed(reason=f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        return None


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def require_zero(answer: Any, code_field: str, message_field: str) -> None:
    """Bots answer HTTP 200 with an error code in the body; anything but 0 is a failure."""
    if not isinstance(answer, dict):
        raise DeliveryFailed(reason=f"unexpected answer {answer!r:.300}")
    code = answer.get(code_field)
    if code != 0:
        raise DeliveryFailed(reason=f"{code_field} {code}: {answer.get(message_field, '')}")
