"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256), keyed from the server secret key.

The Fernet key is derived with HKDF-SHA256 from ``CLOSELOOP_SECRET_KEY`` and a purpose label,
so the stored tokens are useless without the server's key, and a token written for one purpose
(notification channels, mailboxes) cannot be read as another. Changing the server secret key
makes stored secrets unreadable: they must then be entered again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(Exception):
    """A stored secret was written with another server secret key, or was tampered with."""


class SecretBox:
    def __init__(self, server_secret_key: str, *, purpose: bytes) -> None:
        if not server_secret_key:
            raise ValueError("the server secret key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            server_secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise SecretUnreadable() from error


@lru_cache(maxsize=16)
def secret_box(server_secret_key: str, purpose: bytes) -> SecretBox:
    """One box per (server key, purpose): deriving the key costs a little every time otherwise."""
    return SecretBox(server_secret_key, purpose=purpose)
