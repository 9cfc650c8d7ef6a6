"""Telling people and channels: :func:`notify`.

It writes the in-app notifications and one delivery row per outgoing message, and enqueues one
``notifications.deliver`` job per delivery, all in the caller's transaction: if the change that
caused the notification is rolled back, nobody is told. Never commits.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.accounts.errors import AgentNotFound
from closeloop.db.session import UnitOfWork
from closeloop.jobs.queue import enqueue
from closeloop.kit.ids import format_ticket_number
from closeloop.notifications import repository, templates
from closeloop.notifications.domain import (
    DELIVER_TASK,
    DeliveryKind,
    DeliveryStatus,
    NotificationEvent,
    Recipient,
    RecipientKind,
    channel_key,
    channel_wants,
    email_key,
    in_app_key,
    ticket_link,
    unique_recipients,
)
from closeloop.notifications.models import Notification, NotificationDelivery
from closeloop.tickets import service as tickets

# Idempotency keys are "<occurrence>|<target>" in 200 characters.
MAX_OCCURRENCE_LENGTH = 150


@dataclass(frozen=True, slots=True)
class NotifyResult:
    notifications: int
    deliveries: list[int]


@dataclass(frozen=True, slots=True)
class _Organisation:
    locale: str
    time_zone: str


def _json_safe(value: Any) -> Any:
    """Parameters are stored as JSON and rendered later by a worker."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def notify(
    uow: UnitOfWork,
    *,
    event: NotificationEvent | str,
    recipients: Sequence[Recipient],
    params: Mapping[str, Any],
    ticket_id: int | None = None,
    occurrence: str | None = None,
) -> NotifyResult:
    """Tell ``recipients`` and the subscribed channels about ``event``.

    Agents get an in-app notification and an email; customers an email; active channels that
    subscribe to the event (organisation-wide, or for the ticket's team) get a post. With a
    ``ticket_id`` the parameters ``number``, ``subject`` and ``priority`` are filled in from the
    ticket. ``occurrence`` names this happening (e.g. ``sla.warning:ticket:7:resolution:0.75``):
    calling again with the same occurrence tells nobody twice. Never commits.
    """
    event = NotificationEvent(event)
    shown: dict[str, Any] = {}
    team_id: int | None = None
    if ticket_id is not None:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        team_id = ticket.team_id
        shown = {
            "number": format_ticket_number(ticket.id),
            "subject": ticket.subject,
            "priority": ticket.priority,
        }
    shown.update({key: _json_safe(value) for key, value in params.items()})
    missing = templates.missing_params(event, shown)
    if missing:
        raise ValueError(f"{event.value} needs the parameters {', '.join(missing)}")
    occurrence = occurrence or f"{event.value}:{uuid.uuid4().hex}"
    if len(occurrence) > MAX_OCCURRENCE_LENGTH:
        raise ValueError(f"an occurrence has at most {MAX_OCCURRENCE_LENGTH} characters")
    organisation = accounts.get_organisation(uow)
    org = _Organisation(organisation.default_locale, organisation.time_zone)

    notifications: list[Notification] = []
    deliveries: list[NotificationDelivery] = []
    for recipient in unique_recipients(tuple(recipients)):
        if recipient.kind is RecipientKind.agent:
            deliveries += _for_agent(
                uow, recipient, event, shown, ticket_id, occurrence, notifications
            )
        else:
            deliveries += _customer_email(uow, recipient, event, shown, ticket_id, occurrence, org)
    for channel in repository.active_channels(uow.session):
        if channel_wants(
            subscribed_events=list(channel.events),
            channel_team_id=channel.team_id,
            event=event,
            ticket_team_id=team_id,
        ):
            deliveries.append(
                new_delivery(
                    uow,
                    key=channel_key(occurrence, channel.id),
                    event=event,
                    kind=DeliveryKind(channel.kind),
                    params=shown,
                    ticket_id=ticket_id,
                    locale=org.locale,
                    time_zone=org.time_zone,
                    channel_id=channel.id,
                )
            )
    return _save(uow, notifications, deliveries)


def _save(
    uow: UnitOfWork, notifications: list[Notification], deliveries: list[NotificationDelivery]
) -> NotifyResult:
    """Insert what is new (an occurrence told before is skipped) and enqueue one job each."""
    known = repository.existing_notification_keys(
        uow.session, [n.idempotency_key for n in notifications]
    )
    new_notifications = [n for n in notifications if n.idempotency_key not in known]
    known = repository.existing_delivery_keys(uow.session, [d.idempotency_key for d in deliveries])
    new_deliveries = [d for d in deliveries if d.idempotency_key not in known]
    uow.session.add_all([*new_notifications, *new_deliveries])
    uow.session.flush()
    for delivery in new_deliveries:
        enqueue_delivery(uow, delivery)
    return NotifyResult(
        notifications=len(new_notifications), deliveries=[d.id for d in new_deliveries]
    )


def enqueue_delivery(uow: UnitOfWork, delivery: NotificationDelivery) -> None:
    enqueue(
        uow,
        DELIVER_TASK,
        {"delivery_id": delivery.id},
        idempotency_key=f"{DELIVER_TASK}:{delivery.id}",
    )


def _for_agent(
    uow: UnitOfWork,
    recipient: Recipient,
    event: NotificationEvent,
    params: Mapping[str, Any],
    ticket_id: int | None,
    occurrence: str,
    into: list[Notification],
) -> list[NotificationDelivery]:
    """The agent's in-app notification (added to ``into``) and email delivery."""
    try:
        agent = accounts.active_agent(uow, recipient.id)
    except AgentNotFound:  # unknown or deactivated: nobody to tell
        return []
    rendered = templates.render(event, params, locale=agent.locale, time_zone=agent.time_zone)
    into.append(
        Notification(
            recipient_agent_id=agent.id,
            event=event.value,
            ticket_id=ticket_id,
            title=rendered.title[:300],
            body=rendered.body,
            link=ticket_link(ticket_id) if ticket_id is not None else None,
            idempotency_key=in_app_key(occurrence, recipient),
            created_at=uow.clock.now(),
            read_at=None,
        )
    )
    if not agent.email:
        return []
    return [
        new_delivery(
            uow,
            key=email_key(occurrence, recipient),
            event=event,
            kind=DeliveryKind.email,
            params=params,
            ticket_id=ticket_id,
            locale=agent.locale,
            time_zone=agent.time_zone,
            address=agent.email,
            recipient_agent_id=agent.id,
        )
    ]


def _customer_email(
    uow: UnitOfWork,
    recipient: Recipient,
    event: NotificationEvent,
    params: Mapping[str, Any],
    ticket_id: int | None,
    occurrence: str,
    org: _Organisation,
) -> list[NotificationDelivery]:
    principal = accounts.principal_for_customer_id(uow, recipient.id)
    if principal is None:
        return []
    emails = [
        identity
        for identity in accounts.identities_of(uow, [recipient.id])
        if identity.kind == IdentityKind.email.value
    ]
    if not emails:
        return []
    address = next((i.value for i in emails if i.is_primary), emails[0].value)
    return [
        new_delivery(
            uow,
            key=email_key(occurrence, recipient),
            event=event,
            kind=DeliveryKind.email,
            params=params,
            ticket_id=ticket_id,
            locale=principal.locale or org.locale,
            time_zone=org.time_zone,
            address=address,
            recipient_customer_id=recipient.id,
        )
    ]


def new_delivery(
    uow: UnitOfWork,
    *,
    key: str,
    event: NotificationEvent,
    kind: DeliveryKind,
    params: Mapping[str, Any],
    ticket_id: int | None,
    locale: str,
    time_zone: str,
    address: str | None = None,
    channel_id: int | None = None,
    recipient_agent_id: int | None = None,
    recipient_customer_id: int | None = None,
) -> NotificationDelivery:
    return NotificationDelivery(
        idempotency_key=key,
        event=event.value,
        kind=kind.value,
        channel_id=channel_id,
        recipient_agent_id=recipient_agent_id,
        recipient_customer_id=recipient_customer_id,
        address=address,
        ticket_id=ticket_id,
        locale=locale,
        time_zone=time_zone,
        params=dict(params),
        status=DeliveryStatus.pending.value,
        attempts=0,
        last_error=None,
        created_at=uow.clock.now(),
        sent_at=None,
    )
