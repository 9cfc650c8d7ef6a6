"""Channel secrets at rest: mailbox passwords, WeChat app secrets and AES keys, webhook keys.

Encrypted with ``kit.secret_box`` under the channels' own purpose label, so a notification
channel's token can never be decrypted as a mailbox password or the other way round.
"""

from __future__ import annotations

from closeloop.kit.secret_box import SecretBox, SecretUnreadable, secret_box

_PURPOSE = b"closeloop intake channel secrets v1"

__all__ = ["SecretBox", "SecretUnreadable", "channel_cipher"]


def channel_cipher(server_secret_key: str) -> SecretBox:
    return secret_box(server_secret_key, _PURPOSE)
