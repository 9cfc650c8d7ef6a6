"""Notification channel secrets at rest (webhook signing keys, SMTP passwords of bots).

Encrypted with ``kit.secret_box`` under this feature's own purpose label.
"""

from __future__ import annotations

from closeloop.kit.secret_box import SecretBox, SecretUnreadable, secret_box

_PURPOSE = b"closeloop notification channel secrets v1"

SecretCipher = SecretBox

__all__ = ["SecretCipher", "SecretUnreadable", "cipher_for"]


def cipher_for(server_secret_key: str) -> SecretBox:
    return secret_box(server_secret_key, _PURPOSE)
