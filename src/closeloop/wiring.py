"""The composition root: which feature reacts to which event (Cosmic Python's bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from closeloop.config import Settings, load_settings
from closeloop.db.session import UnitOfWork
from closeloop.idempotency import service as idempotency_service
from closeloop.jobs import ExternalEffect, JobRegistry
from closeloop.jobs import tasks as jobs_tasks
from closeloop.kit.events import EventBus
from closeloop.kit.logging import get_logger
from closeloop.notifications import handlers as notification_handlers
from closeloop.notifications import tasks as notification_tasks
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import DELIVER_TASK, NotificationEvent, Recipient
from closeloop.notifications.senders.email import SmtpSettings
from closeloop.notifications.service import notify
from closeloop.routing import handlers as routing_handlers
from closeloop.routing import tasks as routing_tasks
from closeloop.routing.events import TicketPingPonged
from closeloop.sla import handlers as sla_handlers
from closeloop.sla import tasks as sla_tasks
from closeloop.sla.events import EscalationStepFired
from closeloop.tickets.events import (
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketOpened,
    TicketsMerged,
    TicketUpdated,
)

log = get_logger(__name__)


def build_event_bus() -> EventBus:
    """Every reaction of one feature to another's events, in one place."""
    bus = EventBus()
    # Routing first: triage sets priority and team before the SLA clocks start on them.
    subscribe_routing(bus)
    subscribe_sla(bus)
    subscribe_notifications(bus)
    return bus


def subscribe_routing(bus: EventBus) -> None:
    """Triage new tickets, learn from agents' corrections, keep the transfer history
    (``routing.handlers``), and tell the leads about ping-pong tickets.

    In-transaction: what routing decides commits with the ticket it decided about; a ticket
    is never committed untriaged.
    """
    bus.subscribe_in_transaction(TicketOpened, routing_handlers.on_ticket_opened)
    bus.subscribe_in_transaction(TicketUpdated, routing_handlers.on_ticket_updated)
    bus.subscribe_in_transaction(TicketAssigned, routing_handlers.on_ticket_assigned)
    bus.subscribe_in_transaction(TicketPingPonged, _tell_about_ping_pong)


def _tell_about_ping_pong(uow: UnitOfWork, event: TicketPingPonged) -> None:
    """``ticket.ping_pong`` to the leads (routing may not import notifications, which sits
    above it). A notification that cannot be written is logged and rolled back alone."""
    if not event.lead_ids:
        return
    try:
        with uow.session.begin_nested():
            notify(
                uow,
                event=NotificationEvent.ticket_ping_pong,
                recipients=[Recipient.agent(agent_id) for agent_id in event.lead_ids],
                params={"transfers": event.transfers},
                ticket_id=event.ticket_id,
                occurrence=f"ticket.ping_pong:ticket:{event.ticket_id}",
            )
    except Exception:
        log.exception("routing.notification_failed", ticket_id=event.ticket_id)


def subscribe_sla(bus: EventBus) -> None:
    """Keep SLA clocks in step with ticket changes (``sla.handlers``), and tell people when a
    ladder step fires.

    In-transaction: the clocks, the ticket's SLA summary and the notifications of a fired step
    commit together with the change (or the scan) that caused them.
    """
    bus.subscribe_in_transaction(TicketOpened, sla_handlers.on_ticket_opened)
    bus.subscribe_in_transaction(StatusChanged, sla_handlers.on_status_changed)
    bus.subscribe_in_transaction(MessageAdded, sla_handlers.on_message_added)
    bus.subscribe_in_transaction(TicketUpdated, sla_handlers.on_ticket_updated)
    bus.subscribe_in_transaction(TicketAssigned, sla_handlers.on_ticket_assigned)
    bus.subscribe_in_transaction(TicketsMerged, sla_handlers.on_tickets_merged)
    bus.subscribe_in_transaction(EscalationStepFired, _tell_about_sla_step)


def _tell_about_sla_step(uow: UnitOfWork, event: EscalationStepFired) -> None:
    """``sla.warning`` / ``sla.breached`` / ``sla.escalated`` to the step's recipients.

    The step's firing row is committed in this same transaction, and ``occurrence`` names the
    firing, so everyone is told exactly once. A notification that cannot be written is logged
    and rolled back alone (a savepoint): it must not stop the scan for every other ticket.
    """
    try:
        with uow.session.begin_nested():
            notify(
                uow,
                event=event.notification,
                recipients=[Recipient.agent(agent_id) for agent_id in event.agent_ids],
                params={"target": event.kind, "due_at": event.due_at, "step": event.position + 1},
                ticket_id=event.ticket_id,
                occurrence=event.occurrence,
            )
    except Exception:
        log.exception("sla.notification_failed", ticket_id=event.ticket_id, step=event.occurrence)


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
    registry.register_all(sla_tasks.TASKS)
    registry.register_all(routing_tasks.TASKS)
    registry.register("idempotency.purge_expired", _purge_expired_idempotency_records)
    registry.register(DELIVER_TASK, _notification_delivery(settings))
    return registry


def _purge_expired_idempotency_records(uow: UnitOfWork, _payload: Mapping[str, Any]) -> None:
    # idempotency has no tasks.py of its own yet; this adapter is its task.
    deleted = idempotency_service.purge_expired(uow)
    log.info("idempotency.purged", deleted=deleted)


def _notification_delivery(
    settings: Settings | None,
) -> ExternalEffect[notification_tasks.Outgoing, notification_tasks.SendOutcome]:
    """``notifications.deliver`` bound to the server's SMTP settings and secret key.

    Without ``settings`` (a caller that has none at hand) they are read from the environment
    when the first delivery runs, exactly as ``closeloop serve`` and ``closeloop worker`` do.
    """

    @cache
    def context() -> notification_tasks.DeliveryContext:
        return delivery_context(settings or load_settings())

    return notification_tasks.delivery_effect(context)


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
