"""Signatures of outgoing chat-bot and webhook messages (pure: the time is a parameter).

- DingTalk custom robot (钉钉自定义机器人, "加签"):
  ``string_to_sign = timestamp_ms + "\\n" + secret``, HMAC-SHA256 keyed with the secret over
  it, Base64, then URL-encoded; sent as the ``timestamp`` and ``sign`` query parameters.
- Feishu custom bot (飞书自定义机器人, 签名校验): ``string_to_sign = timestamp_s + "\\n" + secret``
  is the HMAC-SHA256 *key* and the message is empty; Base64; sent as ``timestamp`` and ``sign``
  fields of the JSON body.
- Generic webhook: ``X-Closeloop-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">``
  keyed with the channel secret, ``X-Closeloop-Timestamp: <unix seconds>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus

WEBHOOK_SIGNATURE_PREFIX = "sha256="


@dataclass(frozen=True, slots=True)
class TimestampedSignature:
    timestamp: str
    sign: str


def unix_seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("naive datetime refused: every instant must carry a time zone")
    return int(at.timestamp())


def unix_milliseconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("naive datetime refused: every instant must carry a time zone")
    return int(at.timestamp() * 1000)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` for ``timestamp_ms``, already URL-encoded for the query string."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_signature(secret: str, at: datetime) -> TimestampedSignature:
    timestamp = unix_milliseconds(at)
    return TimestampedSignature(timestamp=str(timestamp), sign=dingtalk_sign(secret, timestamp))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` for ``timestamp_s``: the signed string is the key, the message empty."""
    string_to_sign = f"{timestamp_s}\n{secret}".encode()
    digest = hmac.new(string_to_sign, b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_signature(secret: str, at: datetime) -> TimestampedSignature:
    timestamp = unix_seconds(at)
    return TimestampedSignature(timestamp=str(timestamp), sign=feishu_sign(secret, timestamp))


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """The ``X-Closeloop-Signature`` header value for ``body`` sent at ``timestamp_s``."""
    signed = str(timestamp_s).encode() + b"." + body
    return WEBHOOK_SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_webhook_signature(
    secret: str, timestamp_s: int, body: bytes, header: str, *, now_s: int, tolerance_s: int = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    if abs(now_s - timestamp_s) > tolerance_s:
        return False
    return hmac.compare_digest(webhook_signature(secret, timestamp_s, body), header)
