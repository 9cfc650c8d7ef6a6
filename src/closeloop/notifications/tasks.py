"""Background job ``notifications.deliver``: send one delivery, exactly once when it succeeds.

The handler is idempotent: it locks the delivery row and does nothing unless it is still
``pending``, so a job that runs again after a success sends nothing. A refused or failed send
raises :class:`DeliveryFailed`, the job runner retries with backoff, and the delivery stays
``pending`` until a send succeeds. A delivery whose target is gone (channel deleted or switched
off, email not configured, unreadable secret) is ``cancelled`` instead: retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger
from closeloop.notifications import repository, templates
from closeloop.notifications.credentials import SecretCipher, SecretUnreadable
from closeloop.notifications.domain import (
    ChannelKind,
    DeliveryKind,
    DeliveryStatus,
    NotificationEvent,
    shorten_error,
    ticket_link,
)
from closeloop.notifications.errors import DeliveryFailed
from closeloop.notifications.models import NotificationChannel, NotificationDelivery
from closeloop.notifications.senders import ChatMessage, new_client, send_chat
from closeloop.notifications.senders.email import SmtpSettings, build_email, send_email

log = get_logger(__name__)

JobHandler = Callable[[UnitOfWork, Mapping[str, Any]], None]


@dataclass(frozen=True)
class DeliveryContext:
    """What sending needs from the server's configuration (built in ``closeloop.wiring``)."""

    smtp: SmtpSettings
    cipher: SecretCipher
    http_client: Callable[[], httpx.Client] = field(default=new_client)


class _Cancel(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def deliver(uow: UnitOfWork, payload: Mapping[str, Any], *, context: DeliveryContext) -> None:
    delivery = repository.delivery_for_sending(uow.session, int(payload["delivery_id"]))
    if delivery is None or delivery.status != DeliveryStatus.pending.value:
        return  # already sent or cancelled: a repeated job sends nothing
    now = uow.clock.now()
    delivery.attempts += 1
    try:
        _send(uow, delivery, context, now)
    except _Cancel as cancel:
        delivery.status = DeliveryStatus.cancelled.value
        delivery.last_error = shorten_error(cancel.reason)
        log.info("notification_cancelled", delivery_id=delivery.id, reason=cancel.reason)
        uow.session.flush()
        return
    except DeliveryFailed as error:
        delivery.last_error = shorten_error(error.render("en"))
        uow.session.flush()
        log.warning(
            "notification_failed",
            delivery_id=delivery.id,
            kind=delivery.kind,
            attempt=delivery.attempts,
            error=delivery.last_error,
        )
        raise
    delivery.status = DeliveryStatus.sent.value
    delivery.sent_at = now
    delivery.last_error = None
    uow.session.flush()
    log.info("notification_sent", delivery_id=delivery.id, kind=delivery.kind)


def deliver_handler(context: DeliveryContext) -> JobHandler:
    """The ``notifications.deliver`` job handler bound to the server's configuration."""

    def handle(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
        deliver(uow, payload, context=context)

    return handle


def _send(
    uow: UnitOfWork, delivery: NotificationDelivery, context: DeliveryContext, now: datetime
) -> None:
    event = NotificationEvent(delivery.event)
    message = templates.render(
        event, delivery.params, locale=delivery.locale, time_zone=delivery.time_zone
    )
    if delivery.kind == DeliveryKind.email.value:
        _send_email(delivery, context, message, now)
        return
    channel = (
        uow.session.get(NotificationChannel, delivery.channel_id)
        if delivery.channel_id is not None
        else None
    )
    if channel is None:
        raise _Cancel("the channel was deleted")
    if not channel.is_active:
        raise _Cancel("the channel is switched off")
    try:
        secret = (
            context.cipher.decrypt(channel.secret_encrypted) if channel.secret_encrypted else None
        )
    except SecretUnreadable:
        raise _Cancel(
            "the channel secret cannot be decrypted (the server secret key changed): enter it again"
        ) from None
    chat = ChatMessage(
        event=event.value,
        title=message.title,
        body=message.body,
        delivery_key=delivery.idempotency_key,
        link=ticket_link(delivery.ticket_id) if delivery.ticket_id is not None else None,
        ticket_id=delivery.ticket_id,
        params=delivery.params,
    )
    with context.http_client() as client:
        send_chat(
            client, ChannelKind(channel.kind), url=channel.url, secret=secret, message=chat, now=now
        )


def _send_email(
    delivery: NotificationDelivery,
    context: DeliveryContext,
    message: templates.RenderedMessage,
    now: datetime,
) -> None:
    if not context.smtp.is_configured:
        raise _Cancel("no SMTP server is configured (CLOSELOOP_SMTP_HOST)")
    assert delivery.address is not None
    number = delivery.params.get("number")
    email = build_email(
        mail_from=context.smtp.mail_from,
        to_address=delivery.address,
        to_name="",
        subject=message.title,
        text=templates.email_text(
            message, locale=delivery.locale, number=number if isinstance(number, str) else None
        ),
        delivery_key=delivery.idempotency_key,
        at=now,
        locale=delivery.locale,
    )
    send_email(context.smtp, email)
