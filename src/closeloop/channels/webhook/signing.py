"""Signatures of inbound webhook requests (pure: the time is a parameter).

A sender signs every request with the source's secret, in the manner of Stripe's webhooks:

    signed_payload = f"{timestamp}.{raw_body}"
    v1 = hex(HMAC-SHA256(key=secret, message=signed_payload))
    X-Closeloop-Signature: t=<timestamp>,v1=<v1>

``timestamp`` is the Unix time in seconds at which the request was signed; ``raw_body`` is the
exact bytes of the request body. The header may carry several ``v1=`` entries (one per secret
while a secret is being rotated); unknown keys are ignored so later schemes can be added.

The receiver recomputes ``v1`` with each secret the source currently accepts and compares in
constant time; a timestamp further than the source's replay window from its own clock is
refused even when the signature matches, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Closeloop-Signature"
SCHEME = "v1"
MAX_HEADER_LENGTH = 2048


class SignatureProblem(enum.StrEnum):
    """Why a request's signature was refused (logged; the caller sees one 401 for all)."""

    missing = "missing"
    malformed = "malformed"
    expired = "expired"
    mismatch = "mismatch"


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` signature of ``body`` sent at ``timestamp`` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The whole ``X-Closeloop-Signature`` value a sender puts on ``body``."""
    return f"t={timestamp},{SCHEME}={compute_signature(secret, timestamp, body)}"


def parse_signature_header(header: str | None) -> SignatureHeader | None:
    """``t=<unix>,v1=<hex>[,v1=<hex>…]`` → its parts; None when it is not in that shape."""
    if not header or len(header) > MAX_HEADER_LENGTH:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            return None
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif key == SCHEME:
            if len(value) != 64 or not _is_hex(value):
                return None
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        return None
    return SignatureHeader(timestamp=timestamp, signatures=tuple(signatures))


def _is_hex(value: str) -> bool:
    return all(ch in "0123456789abcdefABCDEF" for ch in value)


def check_signature(
    header: str | None,
    body: bytes,
    secrets: Iterable[str],
    *,
    now: int,
    window_seconds: int,
) -> SignatureProblem | None:
    """None when ``header`` signs ``body`` with one of ``secrets`` within ``window_seconds`` of
    ``now`` (Unix seconds); otherwise the reason it does not."""
    if not header:
        return SignatureProblem.missing
    parsed = parse_signature_header(header)
    if parsed is None:
        return SignatureProblem.malformed
    if abs(now - parsed.timestamp) > window_seconds:
        return SignatureProblem.expired
    matched = False
    for secret in secrets:
        expected = compute_signature(secret, parsed.timestamp, body)
        for given in parsed.signatures:
            # Every comparison runs (no early exit), each in constant time.
            matched |= hmac.compare_digest(expected, given)
    return None if matched else SignatureProblem.mismatch
