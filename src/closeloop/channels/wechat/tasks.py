"""Background jobs of the WeChat channel, each an ExternalEffect in three steps (no transaction
is open while WeChat answers; see ``notifications.tasks`` for the pattern):

``channels.wechat.send``
    An agent's public reply to the follower, through the customer-service message API
    (``POST /cgi-bin/message/custom/send``): its text, then each image attachment (uploaded as
    temporary media). Step 1 checks the 48-hour window: outside it nothing is sent and the
    agent finds an internal note on the ticket saying so.
``channels.wechat.fetch_media``
    The image, voice or video of a message taken by the callback (``GET /cgi-bin/media/get``),
    attached to that message once downloaded.

Both share the account's cached access token: step 1 reads it, step 2 fetches a new one when
there is none or WeChat says it expired (40001/42001), step 3 stores the new one for everybody.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.wechat import repository
from closeloop.channels.wechat.client import (
    AccessToken,
    Media,
    MediaTooLarge,
    WeChatApi,
    with_token,
)
from closeloop.channels.wechat.domain import (
    PERMANENT_SEND_CODES,
    is_sendable_image,
    media_filename,
    shorten,
    token_is_usable,
    window_is_open,
)
from closeloop.channels.wechat.errors import WeChatApiFailure
from closeloop.channels.wechat.models import WeChatAccount, WeChatDelivery
from closeloop.channels.wechat.service import (
    FETCH_MEDIA_TASK,
    MEDIA_LABELS,
    SEND_TASK,
    VIA,
    secrets_of,
)
from closeloop.db.session import UnitOfWork
from closeloop.jobs.registry import ExternalEffect
from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import LazyString, _
from closeloop.kit.logging import get_logger
from closeloop.tickets import service as ticket_service
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.customer_links import customer_link_path
from closeloop.tickets.domain import Channel, MessageKind
from closeloop.tickets.schemas import MessageCreate

log = get_logger(__name__)

# Media WeChat will never give: an unknown or expired media id (kept 3 days), too large.
_MEDIA_GONE_CODES = frozenset({40007})

OUTSIDE_WINDOW = _(
    "This reply was not sent to WeChat: the customer's last message is more than 48 hours old, "
    "and WeChat accepts customer-service messages only within 48 hours of it. Reach the "
    "customer another way, or answer when they write again."
)
ACCOUNT_GONE = _(
    "This reply was not sent to WeChat: the official account the conversation came through was "
    "deleted or switched off."
)
NO_FOLLOWER = _(
    "This reply was not sent to WeChat: no WeChat follower is known for this ticket's customer."
)
SECRETS_UNREADABLE = _(
    "This reply was not sent to WeChat: the account's credentials cannot be read (the server "
    "secret key changed). An administrator must enter them again."
)
REFUSED = _("This reply was not sent to WeChat: WeChat refused it ({reason}).")
MEDIA_NOT_FETCHED = _(
    "A file this customer sent on WeChat ({kind}) could not be fetched from WeChat: {reason}"
)
ATTACHMENTS_LINK = _("Attachments: {link}")


@dataclass(frozen=True)
class WeChatContext:
    """What the jobs need from the server's configuration (built in ``closeloop.wiring``)."""

    cipher: SecretBox
    api: Callable[[], WeChatApi]
    store: AttachmentStore
    max_bytes: int
    blocked_extensions: tuple[str, ...] = ()
    public_base_url: str = ""
    secret_key: str = field(default="", repr=False)


def _locale(uow: UnitOfWork) -> str:
    preferences = accounts.organisation_preferences(uow)
    return preferences[0] if preferences is not None else "zh_CN"


def add_note(uow: UnitOfWork, ticket_id: int, text: LazyString, **params: Any) -> None:
    """An internal note for the agents, in the organisation's language. A ticket that can no
    longer change (closed, merged) gets none: the failure is logged instead."""
    locale = _locale(uow)
    rendered = {k: v.render(locale) if isinstance(v, LazyString) else v for k, v in params.items()}
    body = text.render(locale, **rendered)
    try:
        with uow.session.begin_nested():
            ticket_service.add_message(
                uow,
                ticket_id=ticket_id,
                data=MessageCreate(kind=MessageKind.internal_note, body=body),
                actor=SYSTEM,
                via=VIA,
                channel=Channel.wechat,
            )
    except DomainError as error:
        log.warning("wechat.note_not_added", ticket_id=ticket_id, error=error.code)


def _cached_token(account: WeChatAccount, cipher: SecretBox, now: datetime) -> str | None:
    if account.access_token_encrypted is None:
        return None
    if not token_is_usable(account.access_token_expires_at, now):
        return None
    try:
        return cipher.decrypt(account.access_token_encrypted)
    except SecretUnreadable:
        return None


def _store_token(
    uow: UnitOfWork, account_id: int, token: AccessToken | None, cipher: SecretBox
) -> None:
    """Cache a token fetched by step 2 for every process (newest wins)."""
    if token is None:
        return
    account = repository.account(uow.session, account_id)
    if account is None:
        return
    expires = account.access_token_expires_at
    if expires is None or token.expires_at >= expires:
        account.access_token_encrypted = cipher.encrypt(token.value)
        account.access_token_expires_at = token.expires_at
        uow.session.flush()


# --- channels.wechat.send --------------------------------------------------------------------


@dataclass(frozen=True)
class TextPart:
    content: str


@dataclass(frozen=True)
class ImagePart:
    """An image attachment: uploaded as temporary media, then sent as an image message."""

    path: Path
    filename: str
    content_type: str


Part = TextPart | ImagePart


@dataclass(frozen=True)
class SendPlan:
    delivery_id: int
    attempt: int
    account_id: int
    app_id: str
    app_secret: str = field(repr=False)
    cached_token: str | None = field(repr=False)
    openid: str
    # The parts still to send: a reply is its text, then one message per image; the parts an
    # earlier attempt delivered (``parts_sent``) are not sent again.
    parts: tuple[Part, ...]
    at: datetime


@dataclass(frozen=True)
class SendOutcome:
    error: WeChatApiFailure | None = None
    fresh_token: AccessToken | None = None
    parts_sent: int = 0


class _Cancel(Exception):
    def __init__(self, note: LazyString, summary: str, **params: Any) -> None:
        super().__init__(summary)
        self.note = note
        self.summary = summary
        self.params = params


def prepare_send(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: WeChatContext
) -> SendPlan | None:
    """Step 1: lock the pending delivery, check the window, record the intent to send."""
    delivery = repository.delivery_for_sending(uow.session, int(payload["delivery_id"]))
    if delivery is None or delivery.status != "pending":
        return None  # sent or cancelled already: a repeated job sends nothing
    now = uow.clock.now()
    if delivery.send_started_at is not None:
        log.warning(
            "wechat.resending",
            delivery_id=delivery.id,
            reason="the previous attempt stopped mid-send: the message may have arrived",
        )
    try:
        plan = _plan_send(uow, delivery, context, now)
    except _Cancel as cancel:
        _cancel(uow, delivery, cancel)
        return None
    delivery.send_started_at = now
    uow.session.flush()
    return plan


def _plan_send(
    uow: UnitOfWork, delivery: WeChatDelivery, context: WeChatContext, now: datetime
) -> SendPlan:
    account = repository.account(uow.session, delivery.account_id) if delivery.account_id else None
    if delivery.openid is None:
        raise _Cancel(NO_FOLLOWER, "no follower")
    if account is None or not account.is_active:
        raise _Cancel(ACCOUNT_GONE, "account deleted or inactive")
    follower = repository.follower(uow.session, account.id, delivery.openid)
    last = follower.last_interaction_at if follower is not None else None
    if not window_is_open(last, now):
        raise _Cancel(OUTSIDE_WINDOW, "outside WeChat's 48-hour window")
    try:
        secrets = secrets_of(account, context.cipher)
    except SecretUnreadable:
        raise _Cancel(SECRETS_UNREADABLE, "account secrets unreadable") from None
    delivery.attempts += 1
    return SendPlan(
        delivery_id=delivery.id,
        attempt=delivery.attempts,
        account_id=account.id,
        app_id=account.app_id,
        app_secret=secrets.app_secret,
        cached_token=_cached_token(account, context.cipher, now),
        openid=delivery.openid,
        parts=_reply_parts(uow, delivery, context)[delivery.parts_sent :],
        at=now,
    )


def _reply_parts(
    uow: UnitOfWork, delivery: WeChatDelivery, context: WeChatContext
) -> tuple[Part, ...]:
    """The reply's text, then its images (JPEG, PNG, GIF up to 10 MB, as WeChat takes them);
    other attachments are a link to the customer's page of the ticket, after the text."""
    for message, attachments in ticket_service.list_messages(
        uow, ticket_id=delivery.ticket_id, actor=SYSTEM
    ):
        if message.id != delivery.message_id:
            continue
        images = [a for a in attachments if is_sendable_image(a.content_type, a.size)]
        others = [a for a in attachments if a not in images]
        text = message.body_text.strip()
        if others and context.secret_key:
            link = context.public_base_url.rstrip("/") + customer_link_path(
                context.secret_key, delivery.ticket_id
            )
            text = f"{text}\n\n{ATTACHMENTS_LINK.render(_locale(uow), link=link)}".strip()
        parts: list[Part] = [TextPart(shorten(text))] if text else []
        parts.extend(
            ImagePart(context.store.path_of(a.sha256), a.filename, a.content_type) for a in images
        )
        return tuple(parts)
    raise _Cancel(NO_FOLLOWER, "the message is gone")


def _cancel(uow: UnitOfWork, delivery: WeChatDelivery, cancel: _Cancel) -> None:
    delivery.status = "cancelled"
    delivery.last_error = cancel.summary
    delivery.send_started_at = None
    uow.session.flush()
    log.info("wechat.reply_not_sent", delivery_id=delivery.id, reason=cancel.summary)
    add_note(uow, delivery.ticket_id, cancel.note, **cancel.params)


def perform_send(plan: SendPlan, *, context: WeChatContext) -> SendOutcome:
    """Step 2: call the customer-service message API once per part (uploading images first);
    no database access. Stops at the first failure and says how many parts went out."""
    token, fresh, sent = plan.cached_token, None, 0
    with context.api() as api:
        try:
            for part in plan.parts:
                _, new = with_token(
                    api,
                    cached=token,
                    app_id=plan.app_id,
                    app_secret=plan.app_secret,
                    now=plan.at,
                    call=functools.partial(_send_part, api, openid=plan.openid, part=part),
                )
                if new is not None:
                    fresh, token = new, new.value
                sent += 1
        except WeChatApiFailure as error:
            if isinstance(error.fresh_token, AccessToken):
                fresh = error.fresh_token
            return SendOutcome(error=error, fresh_token=fresh, parts_sent=sent)
        except OSError as error:  # the image file is gone from the store
            failure = WeChatApiFailure(f"attachment unreadable: {type(error).__name__}")
            return SendOutcome(error=failure, fresh_token=fresh, parts_sent=sent)
    return SendOutcome(fresh_token=fresh, parts_sent=sent)


def _send_part(api: WeChatApi, access_token: str, *, openid: str, part: Part) -> None:
    if isinstance(part, TextPart):
        body: dict[str, Any] = {"touser": openid, "msgtype": "text"}
        body["text"] = {"content": part.content}
    else:
        media_id = api.upload_media(
            access_token=access_token,
            media_type="image",
            filename=part.filename,
            content=part.path.read_bytes(),
            content_type=part.content_type,
        )
        body = {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}
    api.send_custom_message(access_token=access_token, body=body)


def finish_send(
    uow: UnitOfWork, plan: SendPlan, outcome: SendOutcome, *, context: WeChatContext
) -> Exception | None:
    """Step 3: cache a new token; record ``sent``, a refusal (with a note), or the error."""
    _store_token(uow, plan.account_id, outcome.fresh_token, context.cipher)
    delivery = repository.delivery_for_sending(uow.session, plan.delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.attempts != plan.attempt:
        return outcome.error  # a newer attempt took over: its record stands
    delivery.send_started_at = None
    delivery.parts_sent += outcome.parts_sent
    error = outcome.error
    if error is None:
        delivery.status = "sent"
        delivery.sent_at = uow.clock.now()
        delivery.last_error = None
        uow.session.flush()
        log.info("wechat.reply_sent", delivery_id=delivery.id)
        return None
    if error.errcode in PERMANENT_SEND_CODES:
        _cancel(uow, delivery, _Cancel(REFUSED, error.reason, reason=error.reason))
        return None
    delivery.last_error = error.reason
    uow.session.flush()
    log.warning("wechat.reply_failed", delivery_id=delivery.id, error=error.reason)
    return error


def send_effect(context: Callable[[], WeChatContext]) -> ExternalEffect[SendPlan, SendOutcome]:
    """The ``channels.wechat.send`` job; ``context`` is called when a job runs."""
    return ExternalEffect(
        prepare=lambda uow, payload: prepare_send(uow, payload, context=context()),
        perform=lambda plan: perform_send(plan, context=context()),
        finish=lambda uow, plan, outcome: finish_send(uow, plan, outcome, context=context()),
    )


# --- channels.wechat.fetch_media -------------------------------------------------------------


@dataclass(frozen=True)
class MediaPlan:
    account_id: int
    app_id: str
    app_secret: str = field(repr=False)
    cached_token: str | None = field(repr=False)
    media_id: str
    message_id: int
    ticket_id: int | None
    kind: str
    voice_format: str
    at: datetime


@dataclass(frozen=True)
class MediaOutcome:
    media: Media | None = None
    error: WeChatApiFailure | None = None
    fresh_token: AccessToken | None = None


def prepare_fetch(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: WeChatContext
) -> MediaPlan | None:
    """Step 1: the account's credentials and cached token (nothing is recorded: downloading
    twice is harmless)."""
    account = repository.account(uow.session, int(payload["account_id"]))
    if account is None or not account.is_active:
        log.info("wechat.media_skipped", reason="account deleted or inactive")
        return None
    now = uow.clock.now()
    try:
        secrets = secrets_of(account, context.cipher)
    except SecretUnreadable:
        log.error("wechat.secrets_unreadable", account_id=account.id)
        return None
    return MediaPlan(
        account_id=account.id,
        app_id=account.app_id,
        app_secret=secrets.app_secret,
        cached_token=_cached_token(account, context.cipher, now),
        media_id=str(payload["media_id"]),
        message_id=int(payload["message_id"]),
        ticket_id=int(payload["ticket_id"]) if payload.get("ticket_id") is not None else None,
        kind=str(payload.get("kind", "media")),
        voice_format=str(payload.get("format", "")),
        at=now,
    )


def perform_fetch(plan: MediaPlan, *, context: WeChatContext) -> MediaOutcome:
    """Step 2: download the media; no database access."""
    try:
        with context.api() as api:
            media, fresh = with_token(
                api,
                cached=plan.cached_token,
                app_id=plan.app_id,
                app_secret=plan.app_secret,
                now=plan.at,
                call=lambda token: api.download_media(
                    access_token=token, media_id=plan.media_id, max_bytes=context.max_bytes
                ),
            )
    except WeChatApiFailure as error:
        fresh_token = error.fresh_token if isinstance(error.fresh_token, AccessToken) else None
        return MediaOutcome(error=error, fresh_token=fresh_token)
    return MediaOutcome(media=media, fresh_token=fresh)


def finish_fetch(
    uow: UnitOfWork, plan: MediaPlan, outcome: MediaOutcome, *, context: WeChatContext
) -> Exception | None:
    """Step 3: cache a new token, attach the file to its message (or tell the agents why it
    will never come)."""
    _store_token(uow, plan.account_id, outcome.fresh_token, context.cipher)
    error = outcome.error
    if error is not None:
        if isinstance(error, MediaTooLarge) or error.errcode in _MEDIA_GONE_CODES:
            _media_note(uow, plan, plan.kind, error.reason)
            return None
        log.warning("wechat.media_failed", message_id=plan.message_id, error=error.reason)
        return error
    assert outcome.media is not None
    media = outcome.media
    filename = media_filename(plan.kind, plan.media_id, media.content_type, plan.voice_format)
    try:
        with uow.session.begin_nested():
            ticket_service.attach_file_to_message(
                uow,
                message_id=plan.message_id,
                filename=filename,
                content_type=media.content_type,
                stream=io.BytesIO(media.content),
                store=context.store,
                max_bytes=context.max_bytes,
                blocked_extensions=context.blocked_extensions,
                via=VIA,
            )
    except DomainError as refused:
        _media_note(uow, plan, plan.kind, refused.render("en"))
        return None
    log.info("wechat.media_attached", message_id=plan.message_id, size=len(media.content))
    return None


def _media_note(uow: UnitOfWork, plan: MediaPlan, kind: str, reason: str) -> None:
    log.warning("wechat.media_not_fetched", message_id=plan.message_id, reason=reason)
    if plan.ticket_id is not None:
        label = MEDIA_LABELS.get(kind, MEDIA_LABELS["image"])
        add_note(uow, plan.ticket_id, MEDIA_NOT_FETCHED, kind=label, reason=reason)


def fetch_media_effect(
    context: Callable[[], WeChatContext],
) -> ExternalEffect[MediaPlan, MediaOutcome]:
    """The ``channels.wechat.fetch_media`` job."""
    return ExternalEffect(
        prepare=lambda uow, payload: prepare_fetch(uow, payload, context=context()),
        perform=lambda plan: perform_fetch(plan, context=context()),
        finish=lambda uow, plan, outcome: finish_fetch(uow, plan, outcome, context=context()),
    )


def effects(
    context: Callable[[], WeChatContext],
) -> dict[str, ExternalEffect[Any, Any]]:
    """Both jobs by name, for ``closeloop.wiring.build_job_registry``."""
    return {SEND_TASK: send_effect(context), FETCH_MEDIA_TASK: fetch_media_effect(context)}
