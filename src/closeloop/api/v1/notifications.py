"""Notifications over JSON: an agent's own list, and the admin's chat-bot channels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from closeloop.api.deps import AdminPrincipal, AgentPrincipal, AppSettings, Uow, Via
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    DeliveryRead,
    NotificationPage,
    NotificationRead,
    ReadAllResult,
)

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    uow: Uow,
    actor: AgentPrincipal,
    unread: Annotated[bool, Query(description="Only notifications not read yet.")] = False,
    before: Annotated[int | None, Query(description="`next_before` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> NotificationPage:
    """Your own notifications, newest first."""
    items, next_before = notifications.list_notifications(
        uow, actor=actor, unread_only=unread, before_id=before, limit=limit
    )
    return NotificationPage(
        items=[NotificationRead.of(item) for item in items], next_before=next_before
    )


@router.post("/notifications/read-all", response_model=ReadAllResult)
def read_all(uow: Uow, actor: AgentPrincipal) -> ReadAllResult:
    """Mark every one of your notifications read."""
    marked = notifications.mark_all_read(uow, actor=actor)
    uow.commit()
    return ReadAllResult(marked_read=marked)


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def read_one(notification_id: int, uow: Uow, actor: AgentPrincipal) -> NotificationRead:
    """Mark one of your notifications read (someone else's answers 404)."""
    notification = notifications.mark_read(uow, notification_id=notification_id, actor=actor)
    uow.commit()
    return NotificationRead.of(notification)


@router.get("/notification-channels", response_model=list[ChannelRead])
def list_channels(uow: Uow, actor: AdminPrincipal) -> list[ChannelRead]:
    """Chat-bot and webhook channels (administrators). Secrets are never shown."""
    return [ChannelRead.of(channel) for channel in notifications.list_channels(uow, actor=actor)]


@router.post("/notification-channels", status_code=201, response_model=ChannelRead)
def create_channel(
    data: ChannelCreate, uow: Uow, actor: AdminPrincipal, via: Via, settings: AppSettings
) -> ChannelRead:
    """Add a WeCom, DingTalk or Feishu group bot, or a signed webhook."""
    cipher = cipher_for(settings.secret_key.get_secret_value())
    channel = notifications.create_channel(uow, data=data, cipher=cipher, actor=actor, via=via)
    uow.commit()
    return ChannelRead.of(channel)


@router.patch("/notification-channels/{channel_id}", response_model=ChannelRead)
def update_channel(
    channel_id: int,
    data: ChannelUpdate,
    uow: Uow,
    actor: AdminPrincipal,
    via: Via,
    settings: AppSettings,
) -> ChannelRead:
    """Change the fields sent; ``"secret": null`` removes the secret."""
    cipher = cipher_for(settings.secret_key.get_secret_value())
    channel = notifications.update_channel(
        uow, channel_id=channel_id, data=data, cipher=cipher, actor=actor, via=via
    )
    uow.commit()
    return ChannelRead.of(channel)


@router.delete("/notification-channels/{channel_id}", status_code=204)
def delete_channel(channel_id: int, uow: Uow, actor: AdminPrincipal, via: Via) -> Response:
    notifications.delete_channel(uow, channel_id=channel_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post(
    "/notification-channels/{channel_id}/test", status_code=202, response_model=DeliveryRead
)
def test_channel(channel_id: int, uow: Uow, actor: AdminPrincipal) -> DeliveryRead:
    """Queue a test message to the channel; the worker sends it within seconds."""
    delivery = notifications.send_test_message(uow, channel_id=channel_id, actor=actor)
    uow.commit()
    return DeliveryRead.of(delivery)
