"""Use cases of the WeChat channel: administering accounts, and taking WeChat's pushes.

``receive_push`` is what the callback endpoint calls: it checks the signature and the replay
window, opens safe-mode envelopes, parses the XML, records the follower (their 48-hour window)
and hands messages to ``channels.service.ingest``. Media is not downloaded here (WeChat waits
only 5 seconds for our answer): a ``channels.wechat.fetch_media`` job, committed with the
message, fetches it afterwards. Nothing here commits; the endpoint does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Actor, Change
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, IngestOutcome, SenderIdentity
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.wechat import messages as wechat_messages
from closeloop.channels.wechat import repository
from closeloop.channels.wechat.domain import (
    WINDOW_EVENTS,
    EncryptionMode,
    FollowerEvent,
    event_external_id,
    is_fresh,
    location_text,
    shorten,
)
from closeloop.channels.wechat.errors import (
    WeChatAccountNotFound,
    WeChatAesKeyRequired,
    WeChatAppIdTaken,
    WeChatPushMalformed,
    WeChatSignatureInvalid,
)
from closeloop.channels.wechat.messages import (
    EventPush,
    ImageMessage,
    LinkMessage,
    LocationMessage,
    MalformedPush,
    Message,
    TextMessage,
    UnsupportedPush,
    VideoMessage,
    VoiceMessage,
)
from closeloop.channels.wechat.models import WeChatAccount, WeChatFollower
from closeloop.channels.wechat.schemas import WeChatAccountCreate, WeChatAccountUpdate
from closeloop.channels.wechat.signature import verify_msg_signature, verify_signature
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.kit.errors import PermissionDenied
from closeloop.kit.i18n import LazyString, _
from closeloop.kit.logging import get_logger
from closeloop.tickets import service as ticket_service
from closeloop.tickets.domain import Channel, TicketQuery, TicketStatus

log = get_logger(__name__)

ACCOUNT_ENTITY = "wechat_account"
FETCH_MEDIA_TASK = "channels.wechat.fetch_media"
SEND_TASK = "channels.wechat.send"
VIA = "channel:wechat"
# A message within this time after the customer's last WeChat ticket was closed opens a
# follow-up of it; later ones open a new ticket.
FOLLOW_UP_WINDOW = timedelta(days=7)
SUBJECT_LENGTH = 80
_TAKEN = frozenset(
    {IngestOutcome.ticket_opened, IngestOutcome.message_added, IngestOutcome.follow_up_opened}
)
_NOT_CLOSED = tuple(status.value for status in TicketStatus if status is not TicketStatus.closed)

MEDIA_LABELS: dict[str, LazyString] = {
    "image": _("[Image]"),
    "voice": _("[Voice message]"),
    "video": _("[Video]"),
    "location": _("[Location]"),
    "link": _("[Link]"),
}


# --- accounts (administrators) -------------------------------------------------------------


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _actor(actor: Principal) -> Actor:
    return Actor(type=actor.kind.value, id=actor.id, name=actor.name)


def list_accounts(uow: UnitOfWork, *, actor: Principal) -> list[WeChatAccount]:
    _require_admin(actor)
    return list(repository.accounts(uow.session))


def get_account(uow: UnitOfWork, *, account_id: int, actor: Principal) -> WeChatAccount:
    _require_admin(actor)
    account = repository.account(uow.session, account_id)
    if account is None:
        raise WeChatAccountNotFound(account_id=account_id)
    return account


def create_account(
    uow: UnitOfWork, *, data: WeChatAccountCreate, cipher: SecretBox, actor: Principal, via: str
) -> WeChatAccount:
    _require_admin(actor)
    if data.encryption_mode.needs_aes_key and data.encoding_aes_key is None:
        raise WeChatAesKeyRequired()
    if repository.account_by_app_id(uow.session, data.app_id) is not None:
        raise WeChatAppIdTaken(app_id=data.app_id)
    if data.team_id is not None:
        accounts.get_team(uow, data.team_id)
    now = uow.clock.now()
    aes_key = data.encoding_aes_key
    account = WeChatAccount(
        name=data.name,
        app_id=data.app_id,
        app_secret_encrypted=cipher.encrypt(data.app_secret.get_secret_value()),
        token_encrypted=cipher.encrypt(data.token.get_secret_value()),
        encoding_aes_key_encrypted=cipher.encrypt(aes_key.get_secret_value()) if aes_key else None,
        encryption_mode=data.encryption_mode.value,
        team_id=data.team_id,
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(account)
            uow.session.flush()
    except IntegrityError:
        raise WeChatAppIdTaken(app_id=data.app_id) from None
    audit.record(
        uow,
        entity_type=ACCOUNT_ENTITY,
        entity_id=account.id,
        action="wechat_account.created",
        actor=_actor(actor),
        via=via,
        changes=[
            Change("name", None, account.name),
            Change("app_id", None, account.app_id),
            Change("encryption_mode", None, account.encryption_mode),
            Change("team_id", None, account.team_id),
            Change("is_active", None, account.is_active),
            Change("secrets", None, "set"),
        ],
        new_entity=True,
    )
    return account


def update_account(
    uow: UnitOfWork,
    *,
    account_id: int,
    data: WeChatAccountUpdate,
    cipher: SecretBox,
    actor: Principal,
    via: str,
) -> WeChatAccount:
    account = get_account(uow, account_id=account_id, actor=actor)
    given = data.given()
    changes: list[Change] = []
    for name in ("name", "is_active"):
        if name in given and given[name] != getattr(account, name):
            changes.append(Change(name, getattr(account, name), given[name]))
            setattr(account, name, given[name])
    if "team_id" in given and given["team_id"] != account.team_id:
        if given["team_id"] is not None:
            accounts.get_team(uow, given["team_id"])
        changes.append(Change("team_id", account.team_id, given["team_id"]))
        account.team_id = given["team_id"]
    if "encryption_mode" in given and given["encryption_mode"].value != account.encryption_mode:
        changes.append(
            Change("encryption_mode", account.encryption_mode, given["encryption_mode"].value)
        )
        account.encryption_mode = given["encryption_mode"].value
    if "app_secret" in given:
        account.app_secret_encrypted = cipher.encrypt(given["app_secret"].get_secret_value())
        # A new secret invalidates the tokens fetched with the old one.
        account.access_token_encrypted = None
        account.access_token_expires_at = None
        changes.append(Change("app_secret", "set", "changed"))
    if "token" in given:
        account.token_encrypted = cipher.encrypt(given["token"].get_secret_value())
        changes.append(Change("token", "set", "changed"))
    if "encoding_aes_key" in given:
        key = given["encoding_aes_key"]
        had = account.encoding_aes_key_encrypted is not None
        account.encoding_aes_key_encrypted = (
            cipher.encrypt(key.get_secret_value()) if key is not None else None
        )
        changes.append(
            Change("encoding_aes_key", "set" if had else None, "set" if key is not None else None)
        )
    if EncryptionMode(account.encryption_mode).needs_aes_key and (
        account.encoding_aes_key_encrypted is None
    ):
        raise WeChatAesKeyRequired()
    if not changes:
        return account
    account.updated_at = uow.clock.now()
    uow.session.flush()
    audit.record(
        uow,
        entity_type=ACCOUNT_ENTITY,
        entity_id=account.id,
        action="wechat_account.updated",
        actor=_actor(actor),
        via=via,
        changes=changes,
    )
    return account


def delete_account(uow: UnitOfWork, *, account_id: int, actor: Principal, via: str) -> None:
    """Remove an account with its followers; replies not sent yet are cancelled when their
    job runs (and the agent is told)."""
    account = get_account(uow, account_id=account_id, actor=actor)
    audit.record(
        uow,
        entity_type=ACCOUNT_ENTITY,
        entity_id=account.id,
        action="wechat_account.deleted",
        actor=_actor(actor),
        via=via,
        changes=[Change("name", account.name, None), Change("app_id", account.app_id, None)],
    )
    uow.session.delete(account)
    uow.session.flush()


# --- credentials -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountSecrets:
    # Never in a repr: tracebacks with locals must not show them.
    token: str = field(repr=False)
    app_secret: str = field(repr=False)
    encoding_aes_key: str | None = field(repr=False)


def secrets_of(account: WeChatAccount, cipher: SecretBox) -> AccountSecrets:
    """The account's secrets in clear, for this request or job only (raises SecretUnreadable
    when the server secret key changed since they were entered)."""
    aes = account.encoding_aes_key_encrypted
    return AccountSecrets(
        token=cipher.decrypt(account.token_encrypted),
        app_secret=cipher.decrypt(account.app_secret_encrypted),
        encoding_aes_key=cipher.decrypt(aes) if aes is not None else None,
    )


def _callback_account(
    uow: UnitOfWork, account_id: int, cipher: SecretBox
) -> tuple[WeChatAccount, AccountSecrets]:
    account = repository.account(uow.session, account_id)
    if account is None or not account.is_active:
        raise WeChatAccountNotFound(account_id=account_id)
    try:
        return account, secrets_of(account, cipher)
    except SecretUnreadable:
        log.error("wechat.secrets_unreadable", account_id=account.id)
        # We cannot check anything: refuse like a bad signature (WeChat retries, then gives up).
        raise WeChatSignatureInvalid() from None


# --- intake ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushQuery:
    """The query parameters WeChat adds to every push (and to the URL verification)."""

    signature: str = ""
    timestamp: str = ""
    nonce: str = ""
    msg_signature: str = ""
    encrypt_type: str = ""


def verify_url(
    uow: UnitOfWork, *, account_id: int, query: PushQuery, echostr: str, cipher: SecretBox
) -> str:
    """Server URL verification (服务器配置): the echostr back when the signature is right."""
    _account, secrets = _callback_account(uow, account_id, cipher)
    _check_signature(uow, secrets.token, query)
    return echostr


def _check_signature(uow: UnitOfWork, token: str, query: PushQuery) -> None:
    signed = verify_signature(
        token, signature=query.signature, timestamp=query.timestamp, nonce=query.nonce
    )
    if not signed or not query.timestamp.isdigit():
        raise WeChatSignatureInvalid()
    if not is_fresh(int(query.timestamp), uow.clock.now()):
        log.warning("wechat.stale_timestamp", timestamp=query.timestamp)
        raise WeChatSignatureInvalid()


@dataclass(frozen=True, slots=True)
class PushResult:
    kind: str  # "message", "event", "ignored"
    outcome: IngestOutcome | None = None
    ticket_id: int | None = None
    message_id: int | None = None
    customer_id: int | None = None


def receive_push(
    uow: UnitOfWork, *, account_id: int, query: PushQuery, body: bytes, cipher: SecretBox
) -> PushResult:
    """Check, open and read one push, and act on it (never commits)."""
    account, secrets = _callback_account(uow, account_id, cipher)
    _check_signature(uow, secrets.token, query)
    try:
        xml = _open(account, secrets, query, body)
        push = wechat_messages.parse_push(xml)
    except MalformedPush as error:
        log.warning("wechat.malformed_push", account_id=account.id, reason=str(error))
        raise WeChatPushMalformed() from None
    if isinstance(push, EventPush):
        return _take_event(uow, account, push)
    if isinstance(push, UnsupportedPush):
        log.info(
            "wechat.push_ignored",
            account_id=account.id,
            msg_type=push.msg_type,
            wechat_event=push.event,
        )
        return PushResult(kind="ignored")
    return _take_message(uow, account, push, xml)


def _open(account: WeChatAccount, secrets: AccountSecrets, query: PushQuery, body: bytes) -> str:
    """The push's XML: decrypted in safe mode (and in compatible mode when encrypted)."""
    mode = EncryptionMode(account.encryption_mode)
    encrypted = query.encrypt_type.lower() == "aes"
    if mode is EncryptionMode.plain or (mode is EncryptionMode.compatible and not encrypted):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPush("the push is not UTF-8") from None
    if not encrypted:
        raise WeChatSignatureInvalid()  # safe mode accepts only sealed pushes
    envelope = wechat_messages.encrypted_part(body)
    if not envelope:
        raise MalformedPush("no Encrypt element")
    if not verify_msg_signature(
        secrets.token,
        msg_signature=query.msg_signature,
        timestamp=query.timestamp,
        nonce=query.nonce,
        encrypted=envelope,
    ):
        raise WeChatSignatureInvalid()
    assert secrets.encoding_aes_key is not None  # enforced when the account is saved
    return wechat_messages.decrypt_push(
        envelope, encoding_aes_key=secrets.encoding_aes_key, app_id=account.app_id
    )


def _wechat_time(create_time: int, now: datetime) -> datetime:
    """WeChat's CreateTime as an instant, never later than our clock."""
    return min(datetime.fromtimestamp(create_time, UTC), now)


def _follower(uow: UnitOfWork, account: WeChatAccount, openid: str) -> WeChatFollower:
    """The follower row, created on first sight (a concurrent push's insert wins cleanly)."""
    found = repository.follower(uow.session, account.id, openid)
    if found is not None:
        return found
    now = uow.clock.now()
    follower = WeChatFollower(
        account_id=account.id,
        openid=openid,
        is_subscribed=True,  # only followers can write to an account
        created_at=now,
        updated_at=now,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(follower)
            uow.session.flush()
    except IntegrityError:
        found = repository.follower(uow.session, account.id, openid)
        if found is None:
            raise
        return found
    return follower


def _interacted(follower: WeChatFollower, at: datetime, now: datetime) -> None:
    if follower.last_interaction_at is None or at > follower.last_interaction_at:
        follower.last_interaction_at = at
    follower.updated_at = now


def _take_event(uow: UnitOfWork, account: WeChatAccount, push: EventPush) -> PushResult:
    """Follow, unfollow, menu clicks and scans: the follower is recorded, no ticket opens."""
    now = uow.clock.now()
    at = _wechat_time(push.create_time, now)
    follower = _follower(uow, account, push.openid)
    if follower.last_event == push.event.value and follower.last_event_at == at:
        return PushResult(kind="event", outcome=IngestOutcome.duplicate)  # WeChat's retry
    if push.event is FollowerEvent.subscribe:
        customer = accounts.find_or_create_customer(
            uow,
            kind=IdentityKind.wechat_openid,
            value=push.openid,
            name="",
            actor=SYSTEM,
            via=VIA,
        )
        follower.customer_id = customer.id
        follower.is_subscribed = True
        follower.subscribed_at = at
    elif push.event is FollowerEvent.unsubscribe:
        follower.is_subscribed = False
        follower.unsubscribed_at = at
    if follower.customer_id is None:
        known = accounts.find_customer_by_identity(uow, IdentityKind.wechat_openid, push.openid)
        follower.customer_id = known.id if known is not None else None
    if push.event in WINDOW_EVENTS:
        _interacted(follower, at, now)
    follower.last_event = push.event.value
    follower.last_event_at = at
    follower.updated_at = now
    uow.session.flush()
    log.info(
        "wechat.event",
        account_id=account.id,
        wechat_event=push.event.value,
        external_id=event_external_id(push.openid, push.create_time, push.event.value),
    )
    return PushResult(kind="event", customer_id=follower.customer_id)


def _organisation_locale(uow: UnitOfWork) -> str:
    preferences = accounts.organisation_preferences(uow)
    return preferences[0] if preferences is not None else "zh_CN"


def _body_of(push: Message, locale: str) -> str:
    if isinstance(push, TextMessage):
        return push.content
    if isinstance(push, LocationMessage):
        return location_text(push.label, push.latitude, push.longitude)
    if isinstance(push, LinkMessage):
        return "\n".join(part for part in (push.title, push.description, push.url) if part)
    media = _media_of(push)
    placeholder = MEDIA_LABELS[media[0] if media is not None else "link"].render(locale)
    if isinstance(push, VoiceMessage) and push.recognition.strip():
        return f"{placeholder} {push.recognition.strip()}"
    return placeholder


def _subject_of(body: str) -> str:
    first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return shorten(first_line, SUBJECT_LENGTH) or "WeChat"


def _conversation_ticket(uow: UnitOfWork, openid: str, now: datetime) -> int | None:
    """Where the customer's next message goes: their most recent WeChat ticket that is not
    closed; else their last closed one if it closed within a week (ingest opens its follow-up);
    else None (a new ticket)."""
    customer = accounts.find_customer_by_identity(uow, IdentityKind.wechat_openid, openid)
    if customer is None:
        return None
    base = TicketQuery(requester_ids=(customer.id,), channels=(Channel.wechat.value,), limit=1)
    found = ticket_service.list_tickets(
        uow, query=replace(base, statuses=_NOT_CLOSED), actor=SYSTEM
    ).items
    if found:
        return found[0].id
    latest = ticket_service.list_tickets(uow, query=base, actor=SYSTEM).items
    if latest and latest[0].closed_at is not None and now - latest[0].closed_at <= FOLLOW_UP_WINDOW:
        return latest[0].id
    return None


def _media_of(push: Message) -> tuple[str, str, str] | None:
    """(kind, media_id, voice format) of a message whose file is fetched later."""
    if isinstance(push, ImageMessage):
        return "image", push.media_id, ""
    if isinstance(push, VoiceMessage):
        return "voice", push.media_id, push.format
    if isinstance(push, VideoMessage):
        return "video", push.media_id, ""
    return None


def _take_message(uow: UnitOfWork, account: WeChatAccount, push: Message, xml: str) -> PushResult:
    now = uow.clock.now()
    body = _body_of(push, _organisation_locale(uow))
    media = _media_of(push)
    metadata: dict[str, Any] = {
        "wechat_account_id": account.id,
        "openid": push.openid,
        "msg_type": push.__class__.__name__.removesuffix("Message").lower(),
    }
    if media is not None:
        metadata["media_id"] = media[1]
    message = InboundMessage(
        channel=Channel.wechat,
        external_id=push.msg_id,
        sender=SenderIdentity(IdentityKind.wechat_openid, push.openid),
        subject=_subject_of(body),
        body_text=body,
        received_at=now,
        team_id=account.team_id,
        ticket_id=_conversation_ticket(uow, push.openid, now),
        metadata=metadata,
        raw=xml.encode(),
    )
    result = channel_service.ingest(uow, message, via=VIA)
    if result.outcome is IngestOutcome.duplicate:
        return PushResult(kind="message", outcome=result.outcome, ticket_id=result.ticket_id)
    # Whatever became of the message, the follower wrote: WeChat's 48-hour window is open.
    follower = _follower(uow, account, push.openid)
    _interacted(follower, _wechat_time(push.create_time, now), now)
    follower.customer_id = result.customer_id or follower.customer_id
    if result.outcome not in _TAKEN:
        uow.session.flush()
        log.info("wechat.message_not_taken", account_id=account.id, outcome=result.outcome.value)
        return PushResult(kind="message", outcome=result.outcome, ticket_id=result.ticket_id)
    follower.last_ticket_id = result.ticket_id
    uow.session.flush()
    if media is not None and result.message_id is not None:
        kind, media_id, voice_format = media
        enqueue(
            uow,
            FETCH_MEDIA_TASK,
            {
                "account_id": account.id,
                "message_id": result.message_id,
                "ticket_id": result.ticket_id,
                "media_id": media_id,
                "kind": kind,
                "format": voice_format,
            },
            idempotency_key=f"{FETCH_MEDIA_TASK}:{account.id}:{media_id}",
        )
    return PushResult(
        kind="message",
        outcome=result.outcome,
        ticket_id=result.ticket_id,
        message_id=result.message_id,
        customer_id=result.customer_id,
    )
