"""Pydantic shapes of notifications and channels on the wire (shared by api/ and web/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, StringConstraints, field_validator

from closeloop.kit.schemas import Strict
from closeloop.notifications.domain import ChannelKind, NotificationEvent, masked_url
from closeloop.notifications.models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=1000)]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=500)]


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise ValueError("the URL must start with https:// (or http://)")
    return value


def _subscribable(value: list[NotificationEvent] | None) -> list[NotificationEvent] | None:
    if value is not None and NotificationEvent.channel_test in value:
        raise ValueError("notification.test is not an event to subscribe to")
    return None if value is None else list(dict.fromkeys(value))


class NotificationRead(BaseModel):
    id: int
    event: str
    ticket_id: int | None
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None
    is_read: bool

    @classmethod
    def of(cls, notification: Notification) -> NotificationRead:
        return cls(
            id=notification.id,
            event=notification.event,
            ticket_id=notification.ticket_id,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            created_at=notification.created_at,
            read_at=notification.read_at,
            is_read=notification.read_at is not None,
        )


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next_before: int | None = Field(
        None, description="Pass as `before` to get the next (older) page; null on the last page."
    )


class ReadAllResult(BaseModel):
    marked_read: int


class ChannelCreate(Strict):
    kind: ChannelKind
    name: Name
    url: Url = Field(description="The bot's webhook address, including its access token.")
    secret: Secret | None = Field(
        None,
        description="Signing secret (DingTalk 加签, Feishu 签名校验, webhook HMAC). Write-only.",
    )
    events: list[NotificationEvent] = Field(min_length=1)
    team_id: int | None = Field(None, description="Only this team's tickets; null: all tickets.")
    is_active: bool = True

    _url = field_validator("url")(_http_url)
    _events = field_validator("events")(_subscribable)


class ChannelUpdate(Strict):
    """Only the fields present change. ``secret: null`` removes the secret."""

    name: Name | None = None
    url: Url | None = None
    secret: Secret | None = None
    events: list[NotificationEvent] | None = Field(None, min_length=1)
    team_id: int | None = None
    is_active: bool | None = None

    _url = field_validator("url")(_http_url)
    _events = field_validator("events")(_subscribable)


class ChannelRead(BaseModel):
    id: int
    kind: ChannelKind
    name: str
    url: str = Field(description="The address with its access token masked.")
    has_secret: bool
    events: list[str]
    team_id: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, channel: NotificationChannel) -> ChannelRead:
        return cls(
            id=channel.id,
            kind=ChannelKind(channel.kind),
            name=channel.name,
            url=masked_url(channel.url),
            has_secret=channel.secret_encrypted is not None,
            events=list(channel.events),
            team_id=channel.team_id,
            is_active=channel.is_active,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class DeliveryRead(BaseModel):
    id: int
    event: str
    kind: str
    channel_id: int | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: NotificationDelivery) -> DeliveryRead:
        return cls(
            id=delivery.id,
            event=delivery.event,
            kind=delivery.kind,
            channel_id=delivery.channel_id,
            status=delivery.status,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            sent_at=delivery.sent_at,
        )
