"""Who is told what, and through which kind of target (pure: no I/O, no clock)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

# The job that sends one delivery (``notifications.tasks``).
DELIVER_TASK = "notifications.deliver"


class NotificationEvent(enum.StrEnum):
    """What a notification is about; each has a template in ``notifications.templates``."""

    ticket_assigned = "ticket.assigned"
    ticket_message_added = "ticket.message_added"
    sla_warning = "sla.warning"
    sla_breached = "sla.breached"
    sla_escalated = "sla.escalated"
    ticket_ping_pong = "ticket.ping_pong"
    channel_test = "notification.test"


# Events an administrator may subscribe a chat-bot channel to (the test message is not one).
SUBSCRIBABLE_EVENTS: tuple[NotificationEvent, ...] = tuple(
    event for event in NotificationEvent if event is not NotificationEvent.channel_test
)


class ChannelKind(enum.StrEnum):
    """An organisation-level chat-bot destination."""

    wecom = "wecom"
    dingtalk = "dingtalk"
    feishu = "feishu"
    webhook = "webhook"


class DeliveryKind(enum.StrEnum):
    """How one outgoing message travels: email to a person, or a chat-bot channel."""

    email = "email"
    wecom = "wecom"
    dingtalk = "dingtalk"
    feishu = "feishu"
    webhook = "webhook"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    # The target disappeared (channel deleted or switched off) before the message left.
    cancelled = "cancelled"


class RecipientKind(enum.StrEnum):
    agent = "agent"
    customer = "customer"


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to tell. Agents get an in-app notification and an email; customers an email."""

    kind: RecipientKind
    id: int

    @classmethod
    def agent(cls, agent_id: int) -> Recipient:
        return cls(RecipientKind.agent, agent_id)

    @classmethod
    def customer(cls, customer_id: int) -> Recipient:
        return cls(RecipientKind.customer, customer_id)

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id}"


def unique_recipients(recipients: list[Recipient] | tuple[Recipient, ...]) -> list[Recipient]:
    """The recipients in their first order, each once."""
    return list(dict.fromkeys(recipients))


def in_app_key(occurrence: str, recipient: Recipient) -> str:
    """Idempotency key of the in-app notification of one occurrence for one person."""
    return f"{occurrence}|{recipient.key}|in_app"


def email_key(occurrence: str, recipient: Recipient) -> str:
    """Idempotency key of the email of one occurrence to one person."""
    return f"{occurrence}|{recipient.key}|email"


def channel_key(occurrence: str, channel_id: int) -> str:
    """Idempotency key of the message of one occurrence to one chat-bot channel."""
    return f"{occurrence}|channel:{channel_id}"


def channel_wants(
    *,
    subscribed_events: list[str],
    channel_team_id: int | None,
    event: NotificationEvent,
    ticket_team_id: int | None,
) -> bool:
    """Whether a channel receives ``event``: subscribed to it, and for all teams or the ticket's."""
    if event.value not in subscribed_events:
        return False
    return channel_team_id is None or channel_team_id == ticket_team_id


def ticket_link(ticket_id: int) -> str:
    """Where an agent reads the ticket in the workspace (a path below the site's address)."""
    return f"/agent/tickets/{ticket_id}"


MAX_ERROR_LENGTH = 1000


def shorten_error(text: str) -> str:
    """An error text short enough to keep on the delivery row."""
    cleaned = " ".join(text.split())
    if len(cleaned) <= MAX_ERROR_LENGTH:
        return cleaned
    return cleaned[: MAX_ERROR_LENGTH - 1] + "…"


# A bot's webhook address is itself a credential (WeCom ``key``, DingTalk ``access_token``,
# Feishu's hook id in the path): answers show only its first characters.
_SHOWN_CHARACTERS = 4
_LONG_PATH_SEGMENT = 16


def _mask(value: str) -> str:
    if len(value) <= _SHOWN_CHARACTERS:
        return "…"
    return value[:_SHOWN_CHARACTERS] + "…"


def masked_url(url: str) -> str:
    """``https://oapi.dingtalk.com/robot/send?access_token=abcdef…`` with the token cut short."""
    parts = urlsplit(url)
    segments = [
        _mask(segment) if len(segment) >= _LONG_PATH_SEGMENT else segment
        for segment in parts.path.split("/")
    ]
    query = "&".join(
        f"{quote(name)}={_mask(value)}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, "/".join(segments), query, ""))
