"""The composition root: which feature reacts to which event (Cosmic Python's bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from closeloop.config import Settings, load_settings
from closeloop.db.session import UnitOfWork
from closeloop.idempotency import service as idempotency_service
from closeloop.jobs import JobRegistry
from closeloop.jobs import tasks as jobs_tasks
from closeloop.kit.events import EventBus
from closeloop.kit.logging import get_logger
from closeloop.notifications import handlers as notification_handlers
from closeloop.notifications import tasks as notification_tasks
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import DELIVER_TASK
from closeloop.notifications.senders.email import SmtpSettings
from closeloop.tickets.events import MessageAdded, TicketAssigned

log = get_logger(__name__)


def build_event_bus() -> EventBus:
    """Every reaction of one feature to another's events, in one place."""
    bus = EventBus()
    subscribe_notifications(bus)
    return bus


def subscribe_notifications(bus: EventBus) -> None:
    """Tell people about ticket events (``notifications.handlers``).

    In-transaction: the in-app rows and the delivery jobs are written in the same transaction
    as the ticket change (transactional outbox), so a committed change is never left untold and
    a rolled-back one tells nobody.
    """
    bus.subscribe_in_transaction(TicketAssigned, notification_handlers.on_ticket_assigned)
    bus.subscribe_in_transaction(MessageAdded, notification_handlers.on_message_added)


def build_job_registry(settings: Settings | None = None) -> JobRegistry:
    """Every task the worker can run, by name: one ``register_all`` per feature's ``tasks.py``.
    A periodic job in ``jobs/schedule.py`` must be registered here, or the worker refuses to
    start."""
    registry = JobRegistry()
    registry.register_all(jobs_tasks.TASKS)
    registry.register("idempotency.purge_expired", _purge_expired_idempotency_records)
    registry.register(DELIVER_TASK, _notification_delivery(settings))
    return registry


def _purge_expired_idempotency_records(uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
    # idempotency has no tasks.py of its own yet; this adapter is its task.
    deleted = idempotency_service.purge_expired(uow)
    log.info("idempotency.purged", deleted=deleted)


def _notification_delivery(settings: Settings | None) -> notification_tasks.JobHandler:
    """``notifications.deliver`` bound to the server's SMTP settings and secret key.

    Without ``settings`` (a caller that has none at hand) they are read from the environment
    when the first delivery runs, exactly as ``closeloop serve`` and ``closeloop worker`` do.
    """

    @cache
    def context() -> notification_tasks.DeliveryContext:
        return delivery_context(settings or load_settings())

    def handle(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        notification_tasks.deliver(uow, payload, context=context())

    return handle


def delivery_context(settings: Settings) -> notification_tasks.DeliveryContext:
    return notification_tasks.DeliveryContext(
        smtp=SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() or None,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
        ),
        cipher=cipher_for(settings.secret_key.get_secret_value()),
    )
