"""How a message leaves: email over SMTP, or a post to a chat bot or webhook."""

from __future__ import annotations

from datetime import datetime

import httpx

from closeloop.notifications.domain import ChannelKind
from closeloop.notifications.senders import dingtalk, feishu, webhook, wecom
from closeloop.notifications.senders.base import ChatMessage, ChatSender, new_client

CHAT_SENDERS: dict[ChannelKind, ChatSender] = {
    ChannelKind.wecom: wecom.send,
    ChannelKind.dingtalk: dingtalk.send,
    ChannelKind.feishu: feishu.send,
    ChannelKind.webhook: webhook.send,
}


def send_chat(
    client: httpx.Client,
    kind: ChannelKind,
    *,
    url: str,
    secret: str | None,
    message: ChatMessage,
    now: datetime,
) -> None:
    """Post ``message`` to a channel; raises ``DeliveryFailed`` when it is not accepted."""
    CHAT_SENDERS[kind](client, url=url, secret=secret, message=message, now=now)


__all__ = ["CHAT_SENDERS", "ChatMessage", "new_client", "send_chat"]
