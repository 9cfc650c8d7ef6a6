"""An agent's own in-app notification list: read it, mark it read."""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.notifications import permissions, repository
from closeloop.notifications.errors import NotificationNotFound
from closeloop.notifications.models import Notification


def _own_list(actor: Principal) -> int:
    if not permissions.has_notification_list(actor):
        raise PermissionDenied()
    assert actor.id is not None
    return actor.id


def list_notifications(
    uow: UnitOfWork,
    *,
    actor: Principal,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 25,
) -> tuple[list[Notification], int | None]:
    """The actor's own notifications, newest first, and the ``before`` of the next page."""
    agent_id = _own_list(actor)
    found = repository.notifications_of(
        uow.session, agent_id, unread_only=unread_only, before_id=before_id, limit=limit + 1
    )
    more = len(found) > limit
    page = found[:limit]
    return page, (page[-1].id if more and page else None)


def mark_read(uow: UnitOfWork, *, notification_id: int, actor: Principal) -> Notification:
    agent_id = _own_list(actor)
    notification = repository.notification_of(uow.session, agent_id, notification_id)
    if notification is None:
        raise NotificationNotFound(notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = uow.clock.now()
        uow.session.flush()
    return notification


def mark_all_read(uow: UnitOfWork, *, actor: Principal) -> int:
    return repository.mark_all_read(uow.session, _own_list(actor), uow.clock.now())
