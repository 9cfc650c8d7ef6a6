"""Feishu custom bot (飞书自定义机器人): an interactive card, optionally signed (签名校验).

With a secret, the JSON body carries ``timestamp`` (seconds, as a string) and ``sign`` (see
``notifications.signing.feishu_sign``). The answer is ``{"code": 0, "msg": "success", ...}`` on
success (older bots answer ``{"StatusCode": 0, ...}``); a bad signature is ``code`` 19021.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from closeloop.notifications.errors import DeliveryFailed
from closeloop.notifications.senders.base import ChatMessage, encode, post_json
from closeloop.notifications.signing import feishu_signature


def payload(message: ChatMessage) -> dict[str, Any]:
    text = message.body
    if message.link:
        text += f"\n[{message.link}]({message.link})"
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": message.title}},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
        },
    }


def signed_payload(message: ChatMessage, secret: str | None, now: datetime) -> dict[str, Any]:
    document = payload(message)
    if secret:
        signature = feishu_signature(secret, now)
        document = {"timestamp": signature.timestamp, "sign": signature.sign, **document}
    return document


def check_answer(answer: Any) -> None:
    if not isinstance(answer, dict):
        raise DeliveryFailed(reason=f"unexpected answer {answer!r:.300}")
    code = answer.get("code", answer.get("StatusCode"))
    if code != 0:
        message = answer.get("msg", answer.get("StatusMessage", ""))
        raise DeliveryFailed(reason=f"code {code}: {message}")


def send(
    client: httpx.Client, *, url: str, secret: str | None, message: ChatMessage, now: datetime
) -> None:
    answer = post_json(client, url, encode(signed_payload(message, secret, now)), {})
    check_answer(answer)
