"""The organisation's chat-bot and webhook channels (administrators only), and their test."""

from __future__ import annotations

import uuid

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Actor, Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.notifications import permissions, repository
from closeloop.notifications.credentials import SecretCipher
from closeloop.notifications.domain import (
    ChannelKind,
    DeliveryKind,
    NotificationEvent,
    channel_key,
    masked_url,
)
from closeloop.notifications.errors import (
    ChannelInactive,
    ChannelNotFound,
    ChannelSecretRequired,
)
from closeloop.notifications.models import NotificationChannel, NotificationDelivery
from closeloop.notifications.schemas import ChannelCreate, ChannelUpdate
from closeloop.notifications.service.notify import enqueue_delivery, new_delivery

CHANNEL_ENTITY = "notification_channel"


def _require_admin(actor: Principal) -> None:
    if not permissions.can_manage_channels(actor):
        raise PermissionDenied()


def _actor(actor: Principal) -> Actor:
    return Actor(type=actor.kind.value, id=actor.id, name=actor.name)


def _check_secret(kind: ChannelKind, has_secret: bool) -> None:
    if kind is ChannelKind.webhook and not has_secret:
        raise ChannelSecretRequired(kind=kind.value)


def list_channels(uow: UnitOfWork, *, actor: Principal) -> list[NotificationChannel]:
    _require_admin(actor)
    return repository.channels(uow.session)


def get_channel(uow: UnitOfWork, *, channel_id: int, actor: Principal) -> NotificationChannel:
    _require_admin(actor)
    channel = uow.session.get(NotificationChannel, channel_id)
    if channel is None:
        raise ChannelNotFound(channel_id=channel_id)
    return channel


def create_channel(
    uow: UnitOfWork, *, data: ChannelCreate, cipher: SecretCipher, actor: Principal, via: str
) -> NotificationChannel:
    _require_admin(actor)
    # WeCom robots have no signing secret: one sent along is not kept.
    secret = data.secret.get_secret_value() if data.secret is not None else None
    if data.kind is ChannelKind.wecom:
        secret = None
    _check_secret(data.kind, secret is not None)
    if data.team_id is not None:
        accounts.get_team(uow, data.team_id)
    now = uow.clock.now()
    channel = NotificationChannel(
        kind=data.kind.value,
        name=data.name,
        url=data.url,
        secret_encrypted=cipher.encrypt(secret) if secret is not None else None,
        events=[event.value for event in data.events],
        team_id=data.team_id,
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(channel)
    uow.session.flush()
    audit.record(
        uow,
        entity_type=CHANNEL_ENTITY,
        entity_id=channel.id,
        action="notification_channel.created",
        actor=_actor(actor),
        via=via,
        changes=[
            Change("kind", None, channel.kind),
            Change("name", None, channel.name),
            Change("url", None, masked_url(channel.url)),
            Change("events", None, channel.events),
            Change("team_id", None, channel.team_id),
            Change("secret", None, "set" if secret is not None else None),
        ],
        new_entity=True,
    )
    return channel


def update_channel(
    uow: UnitOfWork,
    *,
    channel_id: int,
    data: ChannelUpdate,
    cipher: SecretCipher,
    actor: Principal,
    via: str,
) -> NotificationChannel:
    channel = get_channel(uow, channel_id=channel_id, actor=actor)
    given = data.model_fields_set
    changes: list[Change] = []
    if "name" in given and data.name is not None and data.name != channel.name:
        changes.append(Change("name", channel.name, data.name))
        channel.name = data.name
    if "url" in given and data.url is not None and data.url != channel.url:
        # The address holds the bot's access token: the trail keeps it masked.
        changes.append(Change("url", masked_url(channel.url), masked_url(data.url)))
        channel.url = data.url
    if "events" in given and data.events is not None:
        events = [event.value for event in data.events]
        if events != channel.events:
            changes.append(Change("events", channel.events, events))
            channel.events = events
    if "team_id" in given and data.team_id != channel.team_id:
        if data.team_id is not None:
            accounts.get_team(uow, data.team_id)
        changes.append(Change("team_id", channel.team_id, data.team_id))
        channel.team_id = data.team_id
    if "is_active" in given and data.is_active is not None and data.is_active != channel.is_active:
        changes.append(Change("is_active", channel.is_active, data.is_active))
        channel.is_active = data.is_active
    if "secret" in given and ChannelKind(channel.kind) is not ChannelKind.wecom:
        had = channel.secret_encrypted is not None
        secret = data.secret.get_secret_value() if data.secret is not None else None
        _check_secret(ChannelKind(channel.kind), secret is not None)
        channel.secret_encrypted = cipher.encrypt(secret) if secret is not None else None
        changes.append(Change("secret", "set" if had else None, "set" if secret else None))
    if not changes:
        return channel
    channel.updated_at = uow.clock.now()
    uow.session.flush()
    audit.record(
        uow,
        entity_type=CHANNEL_ENTITY,
        entity_id=channel.id,
        action="notification_channel.updated",
        actor=_actor(actor),
        via=via,
        changes=changes,
    )
    return channel


def delete_channel(uow: UnitOfWork, *, channel_id: int, actor: Principal, via: str) -> None:
    """Remove a channel; its messages not sent yet are cancelled when their job runs."""
    channel = get_channel(uow, channel_id=channel_id, actor=actor)
    audit.record(
        uow,
        entity_type=CHANNEL_ENTITY,
        entity_id=channel.id,
        action="notification_channel.deleted",
        actor=_actor(actor),
        via=via,
        changes=[Change("name", channel.name, None)],
    )
    uow.session.delete(channel)
    uow.session.flush()


def send_test_message(
    uow: UnitOfWork, *, channel_id: int, actor: Principal
) -> NotificationDelivery:
    """Queue a test message to the channel; the returned delivery shows how it went."""
    channel = get_channel(uow, channel_id=channel_id, actor=actor)
    if not channel.is_active:
        raise ChannelInactive(channel_id=channel_id)
    organisation = accounts.get_organisation(uow)
    delivery = new_delivery(
        uow,
        key=channel_key(f"{NotificationEvent.channel_test.value}:{uuid.uuid4().hex}", channel.id),
        event=NotificationEvent.channel_test,
        kind=DeliveryKind(channel.kind),
        params={"channel": channel.name},
        ticket_id=None,
        locale=organisation.default_locale,
        time_zone=organisation.time_zone,
        channel_id=channel.id,
    )
    uow.session.add(delivery)
    uow.session.flush()
    enqueue_delivery(uow, delivery)
    return delivery
