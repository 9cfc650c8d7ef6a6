"""Channel secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256), keyed from the server secret key.

The Fernet key is derived with HKDF-SHA256 from ``CLOSELOOP_SECRET_KEY`` and a fixed purpose
label, so the stored tokens are useless without the server's key and no other use of that key
can produce the same bytes. Changing the server secret key makes stored channel secrets
unreadable: they must then be entered again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"closeloop notification channel secrets v1"


class SecretUnreadable(Exception):
    """A stored secret was written with another server secret key, or was tampered with."""


class SecretCipher:
    def __init__(self, server_secret_key: str) -> None:
        if not server_secret_key:
            raise ValueError("the server secret key is empty")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
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


@lru_cache(maxsize=4)
def cipher_for(server_secret_key: str) -> SecretCipher:
    """One cipher per server key (deriving the key costs a little on every request otherwise)."""
    return SecretCipher(server_secret_key)
