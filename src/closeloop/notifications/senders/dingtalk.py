"""DingTalk custom robot (钉钉自定义机器人): markdown message, optionally signed ("加签").

With a secret, ``timestamp`` (milliseconds) and ``sign`` are appended to the webhook URL's query
(see ``notifications.signing.dingtalk_sign``). The answer is ``{"errcode": 0, "errmsg": "ok"}``
on success; a bad signature is ``errcode`` 310000 (HTTP 200 either way).
"""

from __future__ import annotations

from datetime import datetime

import httpx

from closeloop.notifications.senders.base import ChatMessage, encode, post_json, require_zero
from closeloop.notifications.signing import dingtalk_signature


def payload(message: ChatMessage) -> dict[str, object]:
    # DingTalk shows ``title`` in the conversation list and ``text`` in the chat.
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": message.markdown()},
    }


def signed_url(url: str, secret: str | None, now: datetime) -> str:
    if not secret:
        return url
    signature = dingtalk_signature(secret, now)
    separator = "&" if "?" in url else "?"
    # ``sign`` is already URL-encoded, as DingTalk requires: build the query by hand.
    return f"{url}{separator}timestamp={signature.timestamp}&sign={signature.sign}"


def send(
    client: httpx.Client, *, url: str, secret: str | None, message: ChatMessage, now: datetime
) -> None:
    answer = post_json(client, signed_url(url, secret, now), encode(payload(message)), {})
    require_zero(answer, "errcode", "errmsg")
