"""Every query on the notifications tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from closeloop.notifications.models import Notification, NotificationChannel, NotificationDelivery


def existing_notification_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    found = session.scalars(
        select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
    )
    return set(found)


def existing_delivery_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    found = session.scalars(
        select(NotificationDelivery.idempotency_key).where(
            NotificationDelivery.idempotency_key.in_(keys)
        )
    )
    return set(found)


def notifications_of(
    session: Session,
    agent_id: int,
    *,
    unread_only: bool,
    before_id: int | None,
    limit: int,
) -> list[Notification]:
    """An agent's notifications, newest first (ids grow with time), ``limit`` at most."""
    query = select(Notification).where(Notification.recipient_agent_id == agent_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def notification_of(session: Session, agent_id: int, notification_id: int) -> Notification | None:
    return session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.recipient_agent_id == agent_id
        )
    )


def mark_all_read(session: Session, agent_id: int, at: datetime) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.recipient_agent_id == agent_id, Notification.read_at.is_(None))
        .values(read_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def channels(session: Session) -> list[NotificationChannel]:
    return list(session.scalars(select(NotificationChannel).order_by(NotificationChannel.id)))


def active_channels(session: Session) -> list[NotificationChannel]:
    return list(
        session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.is_active.is_(True))
            .order_by(NotificationChannel.id)
        )
    )


def delivery_for_sending(session: Session, delivery_id: int) -> NotificationDelivery | None:
    """The delivery, locked on PostgreSQL so two workers never send it at the same moment."""
    return session.scalar(
        select(NotificationDelivery).where(NotificationDelivery.id == delivery_id).with_for_update()
    )
