"""Background job ``notifications.deliver``: send one delivery, and record its fate.

The job is an :class:`~closeloop.jobs.ExternalEffect` in three steps, so that no transaction (on
SQLite: no write lock) is open while an SMTP server or a bot answers, and so that a worker
killed at any instant loses nothing and repeats as little as possible:

1. :func:`prepare` locks the delivery, does nothing unless it is still ``pending``, renders the
   message and commits ``send_started_at`` (the intent) and the attempt count;
2. :func:`perform` sends, outside any transaction;
3. :func:`finish` commits ``sent`` (with the job's success) or the error (with the failed
   attempt, retried with backoff) and clears ``send_started_at``.

A job that runs again after a success sends nothing. A delivery whose target is gone (channel
deleted or switched off, email not configured, unreadable secret) is ``cancelled`` in step 1:
retrying cannot help. A pending delivery that still has ``send_started_at`` when its next attempt
starts was interrupted mid-send (its worker died between 1 and 3): the message may have arrived,
and it is sent again with the same Message-ID / ``X-Closeloop-Delivery`` (at least once; see
docs/subsystems/notifications.md, "Delivery guarantee").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from closeloop.db.session import UnitOfWork
from closeloop.jobs.registry import ExternalEffect
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


@dataclass(frozen=True)
class ChatPost:
    """A post to a channel's bot; the secret lives only in memory, between steps 1 and 2."""

    kind: ChannelKind
    url: str
    secret: str | None
    message: ChatMessage


@dataclass(frozen=True)
class Outgoing:
    """What step 1 hands to the send: one email or one bot post, ready to go."""

    delivery_id: int
    kind: str
    attempt: int  # the delivery's attempt count: step 3 records only its own attempt
    at: datetime  # the signing instant of bot posts, the Date of emails
    email: EmailMessage | None = None
    chat: ChatPost | None = None


SendOutcome = DeliveryFailed | None
"""``None``: the SMTP server or the bot accepted the message."""


def prepare(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: DeliveryContext
) -> Outgoing | None:
    """Step 1: lock the pending delivery, render it, record the intent to send."""
    delivery = repository.delivery_for_sending(uow.session, int(payload["delivery_id"]))
    if delivery is None or delivery.status != DeliveryStatus.pending.value:
        return None  # already sent or cancelled: a repeated job sends nothing
    now = uow.clock.now()
    if delivery.send_started_at is not None:
        log.warning(
            "notification_resending",
            delivery_id=delivery.id,
            kind=delivery.kind,
            interrupted_send_started_at=delivery.send_started_at.isoformat(),
            reason="the previous attempt stopped mid-send: the message may have arrived",
        )
    delivery.attempts += 1
    try:
        outgoing = _compose(uow, delivery, context, now)
    except _Cancel as cancel:
        delivery.status = DeliveryStatus.cancelled.value
        delivery.last_error = shorten_error(cancel.reason)
        delivery.send_started_at = None
        log.info("notification_cancelled", delivery_id=delivery.id, reason=cancel.reason)
        uow.session.flush()
        return None
    delivery.send_started_at = now
    uow.session.flush()
    return outgoing


def perform(outgoing: Outgoing, *, context: DeliveryContext) -> SendOutcome:
    """Step 2: hand the message to the SMTP server or the bot; no database access."""
    try:
        if outgoing.email is not None:
            send_email(context.smtp, outgoing.email)
        else:
            assert outgoing.chat is not None
            post = outgoing.chat
            with context.http_client() as client:
                send_chat(
                    client,
                    post.kind,
                    url=post.url,
                    secret=post.secret,
                    message=post.message,
                    now=outgoing.at,
                )
    except DeliveryFailed as error:
        return error
    return None


def finish(uow: UnitOfWork, outgoing: Outgoing, outcome: SendOutcome) -> DeliveryFailed | None:
    """Step 3: record ``sent`` or the error, and that no send is in progress any more."""
    delivery = repository.delivery_for_sending(uow.session, outgoing.delivery_id)
    if (
        delivery is None
        or delivery.status != DeliveryStatus.pending.value
        or delivery.attempts != outgoing.attempt
    ):
        # A newer attempt took over (this worker's lease had expired): its record stands.
        return outcome
    delivery.send_started_at = None
    if outcome is None:
        delivery.status = DeliveryStatus.sent.value
        delivery.sent_at = uow.clock.now()
        delivery.last_error = None
        uow.session.flush()
        log.info("notification_sent", delivery_id=delivery.id, kind=delivery.kind)
        return None
    delivery.last_error = shorten_error(outcome.render("en"))
    uow.session.flush()
    log.warning(
        "notification_failed",
        delivery_id=delivery.id,
        kind=delivery.kind,
        attempt=delivery.attempts,
        error=delivery.last_error,
    )
    return outcome


def deliver(uow: UnitOfWork, payload: Mapping[str, Any], *, context: DeliveryContext) -> None:
    """The three steps in the caller's one transaction (scripts and tests; the worker runs
    :func:`delivery_effect`, which commits between them). Raises ``DeliveryFailed``."""
    outgoing = prepare(uow, payload, context=context)
    if outgoing is None:
        return
    failure = finish(uow, outgoing, perform(outgoing, context=context))
    if failure is not None:
        raise failure


def delivery_effect(
    context: Callable[[], DeliveryContext],
) -> ExternalEffect[Outgoing, SendOutcome]:
    """The ``notifications.deliver`` job: ``context`` is called when a delivery runs (the
    server's SMTP settings and secret key, read once)."""
    return ExternalEffect(
        prepare=lambda uow, payload: prepare(uow, payload, context=context()),
        perform=lambda outgoing: perform(outgoing, context=context()),
        finish=finish,
    )


def _compose(
    uow: UnitOfWork, delivery: NotificationDelivery, context: DeliveryContext, now: datetime
) -> Outgoing:
    event = NotificationEvent(delivery.event)
    message = templates.render(
        event, delivery.params, locale=delivery.locale, time_zone=delivery.time_zone
    )
    attempt = delivery.attempts
    if delivery.kind == DeliveryKind.email.value:
        email = _compose_email(delivery, context, message, now)
        return Outgoing(delivery.id, delivery.kind, attempt, now, email=email)
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
    post = ChatPost(ChannelKind(channel.kind), channel.url, secret, chat)
    return Outgoing(delivery.id, delivery.kind, attempt, now, chat=post)


def _compose_email(
    delivery: NotificationDelivery,
    context: DeliveryContext,
    message: templates.RenderedMessage,
    now: datetime,
) -> EmailMessage:
    if not context.smtp.is_configured:
        raise _Cancel("no SMTP server is configured (CLOSELOOP_SMTP_HOST)")
    assert delivery.address is not None
    number = delivery.params.get("number")
    return build_email(
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
