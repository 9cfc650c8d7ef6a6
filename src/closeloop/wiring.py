"""The composition root: which feature reacts to which event (Cosmic Python's bootstrap)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

from closeloop.accounts import tasks as accounts_tasks
from closeloop.accounts.events import CustomerCreated, CustomersMerged
from closeloop.channels import handlers as channel_handlers
from closeloop.channels import service as channel_service
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm import handlers as crm_handlers
from closeloop.channels.crm import tasks as crm_tasks
from closeloop.channels.crm.service import ENRICH_TASK as CRM_ENRICH_TASK
from closeloop.channels.email import outbound as email_outbound
from closeloop.channels.email import tasks as email_tasks
from closeloop.channels.email.smtp import SmtpSettings as EmailSmtpSettings
from closeloop.channels.wechat import handlers as wechat_handlers
from closeloop.channels.wechat import tasks as wechat_tasks
from closeloop.channels.wechat.client import WeChatApi
from closeloop.config import Settings, load_settings
from closeloop.db.session import UnitOfWork
from closeloop.idempotency import service as idempotency_service
from closeloop.jobs import ExternalEffect, JobRegistry
from closeloop.jobs import tasks as jobs_tasks
from closeloop.kit.events import EventBus
from closeloop.kit.live import RedisPublisher
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
from closeloop.tickets import handlers as ticket_handlers
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.events import (
    MessageAdded,
    StatusChanged,
    TicketAssigned,
    TicketOpened,
    TicketsMerged,
    TicketUpdated,
)

log = get_logger(__name__)


class LivePublisher(Protocol):
    """Where live events go (``closeloop.web.live.broker.Broker``); any thread may call it."""

    def publish(self, topic: str, data: dict[str, Any], /) -> None: ...


def build_event_bus(publisher: LivePublisher | None = None) -> EventBus:
    """Every reaction of one feature to another's events, in one place. With a ``publisher``,
    committed ticket changes are also announced live (pages refresh without reloading)."""
    bus = EventBus()
    # Routing first: triage sets priority and team before the SLA clocks start on them.
    subscribe_routing(bus)
    subscribe_sla(bus)
    subscribe_notifications(bus)
    subscribe_customer_reactions(bus)
    subscribe_email(bus)
    subscribe_wechat(bus)
    if publisher is not None:
        subscribe_live(bus, publisher)
    return bus


def subscribe_email(bus: EventBus) -> None:
    """Email the requester an agent's public reply and acknowledge new email and web-form
    tickets (``channels.handlers``). In-transaction: the outgoing email and its job commit
    with the reply or the ticket (transactional outbox)."""
    bus.subscribe_in_transaction(MessageAdded, channel_handlers.on_message_added)
    bus.subscribe_in_transaction(TicketOpened, channel_handlers.on_ticket_opened)


def subscribe_wechat(bus: EventBus) -> None:
    """Send agents' public replies on WeChat tickets back to the follower
    (``channels.wechat.handlers``). In-transaction: the delivery and its job commit with the
    reply (transactional outbox)."""
    bus.subscribe_in_transaction(MessageAdded, wechat_handlers.on_message_added)


def live_publisher(settings: Settings) -> LivePublisher | None:
    """What a worker process announces live ticket changes with: Redis pub/sub when
    ``CLOSELOOP_REDIS_URL`` is set (the web processes listen there); without Redis a separate
    worker process has nobody to tell (the embedded worker of ``serve`` uses the app's broker)."""
    if not settings.redis_url:
        return None
    return RedisPublisher(settings.redis_url)


def subscribe_live(bus: EventBus, publisher: LivePublisher) -> None:
    """Announce ticket changes to the pages (``web/live``): ``tickets`` (ids only, for lists)
    and ``ticket:<id>`` (for the ticket's page).

    After commit: nobody is told of a change that was rolled back. Best effort: a publisher
    that fails is logged, and the committed change stands.
    """
    announce = _live_announcer(publisher)
    for event_type in _LIVE_EVENT_NAMES:
        bus.subscribe(event_type, announce)


_LIVE_EVENT_NAMES: dict[type[Any], str] = {
    TicketOpened: "ticket.opened",
    TicketUpdated: "ticket.updated",
    StatusChanged: "ticket.status_changed",
    TicketAssigned: "ticket.assigned",
    MessageAdded: "ticket.message_added",
    TicketsMerged: "ticket.merged",
}


def live_messages(event: object) -> list[tuple[str, dict[str, Any]]]:
    """The (topic, data) pairs announcing one ticket event. ``tickets`` carries only ids: a
    list page refetches what its reader may see."""
    name = _LIVE_EVENT_NAMES[type(event)]
    extra: dict[str, Any] = {}
    if isinstance(event, TicketsMerged):
        ids = [event.source_ticket_id, event.survivor_ticket_id]
        extra = {
            "source_ticket_id": event.source_ticket_id,
            "survivor_ticket_id": event.survivor_ticket_id,
        }
    else:
        ids = [int(getattr(event, "ticket_id"))]  # noqa: B009 (every other event has one)
        if isinstance(event, MessageAdded):
            extra = {"message_id": event.message_id, "kind": event.kind}
        elif isinstance(event, TicketUpdated):
            extra = {"fields": list(event.fields)}
        elif isinstance(event, StatusChanged):
            extra = {"status": event.new_status}
    messages: list[tuple[str, dict[str, Any]]] = []
    for ticket_id in ids:
        summary: dict[str, Any] = {"ticket_id": ticket_id, "event": name, "version": None}
        messages.append(("tickets", summary))
        messages.append((f"ticket:{ticket_id}", {**summary, **extra}))
    return messages


def _live_announcer(publisher: LivePublisher) -> Callable[[object], None]:
    def announce(event: object) -> None:
        try:
            for topic, data in live_messages(event):
                publisher.publish(topic, data)
        except Exception:
            log.exception("live.announce_failed", event_type=type(event).__name__)

    return announce


def subscribe_customer_reactions(bus: EventBus) -> None:
    """Tickets follow a customer merge (``tickets.handlers``: requester and followers move to
    the survivor); a new customer is looked up in the CRM when that is on (``channels.crm``).

    In-transaction: the tickets move in the merge's transaction, and the lookup job is an
    outbox row committed with the new customer.
    """
    bus.subscribe_in_transaction(CustomersMerged, ticket_handlers.on_customers_merged)
    bus.subscribe_in_transaction(CustomerCreated, crm_handlers.on_customer_created)


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
        with uow.savepoint():
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
        with uow.savepoint():
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


def configure_channels(settings: Settings) -> None:
    """What ``channels.service.ingest`` uses in this process: where attachments and raw
    messages go, the attachment limits, our own addresses, the same-subject window."""
    channel_service.configure_ingest(channel_service.IngestSettings.from_settings(settings))


def build_job_registry(settings: Settings | None = None) -> JobRegistry:
    """Every task the worker can run, by name: one ``register_all`` per feature's ``tasks.py``.
    A periodic job in ``jobs/schedule.py`` must be registered here, or the worker refuses to
    start."""
    if settings is not None:
        configure_channels(settings)
    registry = JobRegistry()
    registry.register_all(jobs_tasks.TASKS)
    registry.register_all(accounts_tasks.TASKS)
    registry.register_all(sla_tasks.TASKS)
    registry.register_all(routing_tasks.TASKS)
    registry.register("idempotency.purge_expired", _purge_expired_idempotency_records)
    registry.register(DELIVER_TASK, _notification_delivery(settings))
    registry.register(CRM_ENRICH_TASK, _crm_enrichment(settings))
    registry.register_all(_email_tasks(settings))
    registry.register_all(_wechat_tasks(settings))
    return registry


def _wechat_tasks(settings: Settings | None) -> Mapping[str, Any]:
    """``channels.wechat.send``/``fetch_media`` bound to the server's WeChat API address,
    secret key and attachment store (read on first use, as for notification deliveries)."""

    @cache
    def context() -> wechat_tasks.WeChatContext:
        return wechat_context(settings or load_settings())

    return wechat_tasks.effects(context)


def wechat_context(settings: Settings) -> wechat_tasks.WeChatContext:
    secret = settings.secret_key.get_secret_value()
    return wechat_tasks.WeChatContext(
        cipher=channel_cipher(secret),
        api=lambda: WeChatApi(
            settings.wechat_api_base_url, timeout=settings.wechat_api_timeout_seconds
        ),
        store=AttachmentStore(settings.attachments_dir),
        max_bytes=settings.max_attachment_bytes,
        blocked_extensions=tuple(settings.blocked_attachment_extensions),
        public_base_url=settings.public_base_url,
        secret_key=secret,
    )


def _email_tasks(settings: Settings | None) -> Mapping[str, Any]:
    """``channels.email.poll``/``fetch``/``send`` bound to the server's SMTP settings, secret
    key and poll lease (read on first use, as for notification deliveries)."""

    @cache
    def context() -> email_tasks.EmailContext:
        return email_context(settings or load_settings())

    return email_tasks.email_tasks(context)


def email_context(settings: Settings) -> email_tasks.EmailContext:
    secret = settings.secret_key.get_secret_value()
    return email_tasks.EmailContext(
        send=email_outbound.SendContext(
            smtp=EmailSmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                starttls=settings.smtp_starttls,
                ssl=settings.smtp_ssl,
            ),
            mail_from=settings.mail_from,
            public_base_url=settings.public_base_url,
            secret_key=secret,
            attachments_dir=settings.attachments_dir,
        ),
        cipher=channel_cipher(secret),
        imap_timeout=settings.imap_timeout_seconds,
        poll_lease=timedelta(seconds=settings.email_poll_lease_seconds),
    )


def _crm_enrichment(settings: Settings | None) -> Any:
    """``channels.crm.enrich`` bound to the server's secret key (read on first use, as for
    notification deliveries)."""

    @cache
    def context() -> crm_tasks.CrmContext:
        key = (settings or load_settings()).secret_key.get_secret_value()
        return crm_tasks.CrmContext(cipher=channel_cipher(key))

    return crm_tasks.enrich_effect(context)


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
