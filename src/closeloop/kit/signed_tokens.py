"""Unguessable, stateless tokens: an HMAC of a value under the server secret and a purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac

_TOKEN_CHARS = 32


def sign_value(secret: str, *, purpose: str, value: str) -> str:
    """A URL-safe token that only the holder of ``secret`` can produce for this value.

    ``purpose`` separates uses: a token made for one purpose never verifies for another.
    """
    digest = hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:_TOKEN_CHARS]


def verify_value(secret: str, *, purpose: str, value: str, token: str) -> bool:
    expected = sign_value(secret, purpose=purpose, value=value)
    return hmac.compare_digest(expected.encode(), token.encode())
