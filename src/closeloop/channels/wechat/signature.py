"""Signatures of WeChat's pushes (pure).

``signature`` (server URL verification and every push): SHA-1 of the account's token, the
timestamp and the nonce, sorted and joined. ``msg_signature`` (safe and compatible mode): the same
over the token, timestamp, nonce and the ``Encrypt`` text. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac


def compute_signature(token: str, timestamp: str, nonce: str, *more: str) -> str:
    """The hex SHA-1 WeChat sends: its parts sorted as strings, concatenated."""
    parts = sorted([token, timestamp, nonce, *more])
    # SHA-1 is WeChat's choice, not ours.
    return hashlib.sha1("".join(parts).encode(), usedforsecurity=False).hexdigest()


def verify_signature(token: str, *, signature: str, timestamp: str, nonce: str) -> bool:
    """The ``signature`` query parameter is right for this account's token."""
    if not (token and signature and timestamp and nonce):
        return False
    expected = compute_signature(token, timestamp, nonce)
    return hmac.compare_digest(expected, signature.lower())


def verify_msg_signature(
    token: str, *, msg_signature: str, timestamp: str, nonce: str, encrypted: str
) -> bool:
    """The ``msg_signature`` of a safe-mode push is right for its ``Encrypt`` text."""
    if not (token and msg_signature and timestamp and nonce and encrypted):
        return False
    expected = compute_signature(token, timestamp, nonce, encrypted)
    return hmac.compare_digest(expected, msg_signature.lower())
