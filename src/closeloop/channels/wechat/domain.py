"""The rules of the WeChat channel (pure: no database, no network, no clock)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

# WeChat accepts customer-service messages to a user for 48 hours after their last interaction
# (a message, a menu click, following the account, scanning a code).
SERVICE_WINDOW = timedelta(hours=48)
# A push whose timestamp is further than this from our clock is refused (replayed or forged).
REPLAY_WINDOW = timedelta(minutes=5)
# A cached access token is refreshed this long before WeChat says it expires.
TOKEN_MARGIN = timedelta(minutes=5)
# WeChat's text messages are limited; longer replies are cut (with an ellipsis).
MAX_TEXT_LENGTH = 2000
# Error codes of the WeChat API.
TOKEN_EXPIRED_CODES = frozenset({40001, 40014, 42001})
# Retrying cannot help: outside the window (45015), unsubscribed (43004), bad openid (40003),
# the user refuses messages (45047 is a rate limit: retried).
PERMANENT_SEND_CODES = frozenset({40003, 43004, 45015})
OUTSIDE_WINDOW_CODE = 45015


class EncryptionMode(enum.StrEnum):
    """The message encryption mode chosen in the WeChat admin console (消息加解密方式)."""

    plain = "plain"  # 明文模式
    compatible = "compatible"  # 兼容模式: plain fields and an encrypted copy
    safe = "safe"  # 安全模式: encrypted only

    @property
    def needs_aes_key(self) -> bool:
        return self is not EncryptionMode.plain


class FollowerEvent(enum.StrEnum):
    """Events that change what we know about a follower (and never open a ticket)."""

    subscribe = "subscribe"
    unsubscribe = "unsubscribe"
    click = "CLICK"
    view = "VIEW"
    scan = "SCAN"


# Events that open (or renew) the customer-service window; unsubscribing does not.
WINDOW_EVENTS = frozenset(
    {FollowerEvent.subscribe, FollowerEvent.click, FollowerEvent.view, FollowerEvent.scan}
)


def window_is_open(last_interaction_at: datetime | None, now: datetime) -> bool:
    """True when a customer-service message may still be sent (within 48 hours)."""
    return last_interaction_at is not None and now < last_interaction_at + SERVICE_WINDOW


def is_fresh(timestamp: int, now: datetime) -> bool:
    """A push's ``timestamp`` (Unix seconds) lies within the replay window around ``now``."""
    return abs(now.timestamp() - timestamp) <= REPLAY_WINDOW.total_seconds()


def token_is_usable(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and now < expires_at - TOKEN_MARGIN


def event_external_id(openid: str, create_time: int, event: str) -> str:
    """Events have no MsgId: FromUserName + CreateTime + Event names one (WeChat's advice)."""
    return f"{openid}:{create_time}:{event}"


def location_text(label: str, latitude: str, longitude: str) -> str:
    """``📍 label (lat, lng)`` for a shared location."""
    place = label.strip()
    coordinates = f"({latitude}, {longitude})"
    return f"📍 {place} {coordinates}" if place else f"📍 {coordinates}"


def shorten(text: str, limit: int = MAX_TEXT_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Images a customer-service message can carry (temporary media: JPG/PNG/GIF, at most 10 MB).
SENDABLE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def is_sendable_image(content_type: str, size: int) -> bool:
    return content_type in SENDABLE_IMAGE_TYPES and 0 < size <= MAX_IMAGE_BYTES


MEDIA_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "audio/amr": ".amr",
    "audio/speex": ".speex",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
}


def media_filename(kind: str, media_id: str, content_type: str, voice_format: str = "") -> str:
    """A readable file name for downloaded media: ``wechat-image-<id>.jpg``."""
    extension = MEDIA_EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")
    if not extension and voice_format:
        extension = "." + voice_format.lower()
    safe_id = "".join(c for c in media_id if c.isalnum() or c in "-_")[:40] or "media"
    return f"wechat-{kind}-{safe_id}{extension}"
