"""WeChat's XML pushes as frozen dataclasses, and the passive reply (pure).

A thin layer over wechatpy: ``wechatpy.parse_message`` reads the XML and
``wechatpy.crypto.PrpCrypto`` opens safe-mode envelopes; this module turns their objects into
our own types, so the rest of closeloop never sees wechatpy.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import xmltodict  # type: ignore[import-untyped]
from wechatpy import events as wechat_events  # type: ignore[import-untyped]
from wechatpy import messages as wechat_messages
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto  # type: ignore[import-untyped]

from closeloop.channels.wechat.domain import FollowerEvent

# What WeChat wants back when we have nothing to say (no passive reply): "success".
SUCCESS = "success"
# Pushes are small (a text is at most 2048 bytes); anything much larger is not WeChat.
MAX_PUSH_BYTES = 64 * 1024


class MalformedPush(ValueError):
    """Not a WeChat push we can read: bad XML, missing fields, an envelope we cannot open."""


@dataclass(frozen=True, slots=True)
class PushBase:
    account_original_id: str  # ToUserName: the account's gh_… id
    openid: str  # FromUserName: the follower, unique per account
    create_time: int  # Unix seconds, WeChat's clock


@dataclass(frozen=True, slots=True)
class TextMessage(PushBase):
    msg_id: str
    content: str


@dataclass(frozen=True, slots=True)
class ImageMessage(PushBase):
    msg_id: str
    pic_url: str
    media_id: str


@dataclass(frozen=True, slots=True)
class VoiceMessage(PushBase):
    msg_id: str
    media_id: str
    format: str
    recognition: str  # speech recognition, when the account switched it on; else ""


@dataclass(frozen=True, slots=True)
class VideoMessage(PushBase):
    msg_id: str
    media_id: str
    thumb_media_id: str
    short: bool  # a "shortvideo" (小视频)


@dataclass(frozen=True, slots=True)
class LocationMessage(PushBase):
    msg_id: str
    latitude: str  # Location_X
    longitude: str  # Location_Y
    scale: str
    label: str


@dataclass(frozen=True, slots=True)
class LinkMessage(PushBase):
    msg_id: str
    title: str
    description: str
    url: str


@dataclass(frozen=True, slots=True)
class EventPush(PushBase):
    """subscribe, unsubscribe, CLICK, VIEW, SCAN: ``key`` is the EventKey (menu key, URL,
    QR scene)."""

    event: FollowerEvent
    key: str


@dataclass(frozen=True, slots=True)
class UnsupportedPush(PushBase):
    """A message type or event we take no action on (answered ``success`` all the same)."""

    msg_type: str
    event: str


Message = TextMessage | ImageMessage | VoiceMessage | VideoMessage | LocationMessage | LinkMessage
Push = Message | EventPush | UnsupportedPush

_EVENTS: dict[str, FollowerEvent] = {
    "subscribe": FollowerEvent.subscribe,
    "subscribe_scan": FollowerEvent.subscribe,
    "unsubscribe": FollowerEvent.unsubscribe,
    "click": FollowerEvent.click,
    "view": FollowerEvent.view,
    "scan": FollowerEvent.scan,
}


def parse_push(xml: str | bytes) -> Push:
    """Read a (plain or decrypted) push. Raises :class:`MalformedPush`."""
    if len(xml) > MAX_PUSH_BYTES:
        raise MalformedPush("the push is too large")
    try:
        parsed: Any = parse_message(xml)
        data = parsed._data if parsed is not None else None
        if not isinstance(data, dict):
            raise MalformedPush("the push is not a WeChat XML document")
        return _convert(parsed, data)
    except MalformedPush:
        raise
    except Exception as error:  # expat, missing keys, odd shapes: all "malformed"
        raise MalformedPush(f"unreadable push: {type(error).__name__}") from error


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPush(f"{key} is not text")
    return value


def _required(data: dict[str, Any], key: str) -> str:
    value = _text(data, key).strip()
    if not value:
        raise MalformedPush(f"{key} is missing")
    return value


def _convert(parsed: Any, data: dict[str, Any]) -> Push:
    create_time = _required(data, "CreateTime")
    if not create_time.isdigit() or len(create_time) > 11:
        raise MalformedPush("CreateTime is not a Unix time")
    base: dict[str, Any] = {
        "account_original_id": _text(data, "ToUserName"),
        "openid": _required(data, "FromUserName"),
        "create_time": int(create_time),
    }
    if isinstance(parsed, wechat_events.BaseEvent):
        raw_event = _text(data, "Event")
        event = _EVENTS.get(str(parsed.event))
        if event is None:
            return UnsupportedPush(**base, msg_type="event", event=raw_event)
        return EventPush(**base, event=event, key=_text(data, "EventKey"))
    msg_type = _required(data, "MsgType").lower()
    if isinstance(parsed, wechat_messages.UnknownMessage) or msg_type not in _MESSAGES:
        return UnsupportedPush(**base, msg_type=msg_type, event="")
    return _MESSAGES[msg_type](base | {"msg_id": _required(data, "MsgId")}, data)


def _text_message(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return TextMessage(**base, content=_text(data, "Content"))


def _image(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return ImageMessage(**base, pic_url=_text(data, "PicUrl"), media_id=_required(data, "MediaId"))


def _voice(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return VoiceMessage(
        **base,
        media_id=_required(data, "MediaId"),
        format=_text(data, "Format"),
        recognition=_text(data, "Recognition"),
    )


def _video(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return VideoMessage(
        **base,
        media_id=_required(data, "MediaId"),
        thumb_media_id=_text(data, "ThumbMediaId"),
        short=_text(data, "MsgType").lower() == "shortvideo",
    )


def _location(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return LocationMessage(
        **base,
        latitude=_text(data, "Location_X"),
        longitude=_text(data, "Location_Y"),
        scale=_text(data, "Scale"),
        label=_text(data, "Label"),
    )


def _link(base: dict[str, Any], data: dict[str, Any]) -> Push:
    return LinkMessage(
        **base,
        title=_text(data, "Title"),
        description=_text(data, "Description"),
        url=_text(data, "Url"),
    )


_MESSAGES = {
    "text": _text_message,
    "image": _image,
    "voice": _voice,
    "video": _video,
    "shortvideo": _video,
    "location": _location,
    "link": _link,
}


def encrypted_part(xml: str | bytes) -> str:
    """The ``Encrypt`` text of a safe- or compatible-mode push ("" when there is none)."""
    if len(xml) > MAX_PUSH_BYTES:
        raise MalformedPush("the push is too large")
    try:
        document: Any = xmltodict.parse(xml)
    except Exception as error:
        raise MalformedPush(f"unreadable push: {type(error).__name__}") from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        return ""
    value = root.get("Encrypt")
    return value.strip() if isinstance(value, str) else ""


def is_valid_aes_key(encoding_aes_key: str) -> bool:
    """An EncodingAESKey is 43 characters of base64 that decode to 32 bytes."""
    return len(encoding_aes_key) == 43 and _aes_key(encoding_aes_key) is not None


def _aes_key(encoding_aes_key: str) -> bytes | None:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == 32 else None


def decrypt_push(encrypted: str, *, encoding_aes_key: str, app_id: str) -> str:
    """Open a safe-mode envelope (AES-256-CBC, WeChat's PKCS#7 framing) into the push's XML.
    The envelope names the app id it was sealed for: another account's is refused."""
    key = _aes_key(encoding_aes_key)
    if key is None:
        raise MalformedPush("the account's EncodingAESKey is not valid")
    try:
        plain: str = PrpCrypto(key).decrypt(encrypted, app_id)
    except Exception as error:  # bad base64, bad padding, another app id
        raise MalformedPush(f"the envelope does not open: {type(error).__name__}") from error
    return plain


def success_reply() -> str:
    """The passive reply that tells WeChat the push arrived and we answer later (or never)."""
    return SUCCESS
