"""A small IMAP client for polling a team mailbox (imaplib): SSL, STARTTLS or plain, with
timeouts, by UID, never deleting anything.

Only what polling needs: select a folder and learn its UIDVALIDITY, list the UIDs after the
last one taken, fetch one message without setting \\Seen (``BODY.PEEK[]``), and flag a message
\\Seen once it is stored.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

DEFAULT_TIMEOUT_SECONDS = 30.0
_UID = re.compile(rb"UID (\d+)")


class ImapFailed(Exception):
    """The server could not be reached, refused the login or a command. The message never
    holds the password (imaplib does not echo it)."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    tls_mode: str  # "ssl" | "starttls" | "none"
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # Which certificates to trust; None means the system's (tests pass their own CA).
    tls_context: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # never show the password in a log or a traceback
        return (
            f"ImapSettings(host={self.host!r}, port={self.port}, tls_mode={self.tls_mode!r}, "
            f"username={self.username!r}, folder={self.folder!r})"
        )


@dataclass(frozen=True, slots=True)
class SelectedFolder:
    uidvalidity: int
    exists: int


def quote_folder(folder: str) -> str:
    """An IMAP quoted string (folders may hold spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One logged-in connection; use :func:`open_session`."""

    def __init__(self, client: imaplib.IMAP4) -> None:
        self._client = client

    def select(self, folder: str, *, readonly: bool) -> SelectedFolder:
        status, data = self._client.select(quote_folder(folder), readonly=readonly)
        if status != "OK":
            raise ImapFailed(f"SELECT {folder!r} refused: {_text(data)}")
        _status, validity = self._client.response("UIDVALIDITY")
        if not validity or validity[0] is None:
            raise ImapFailed(f"the server sent no UIDVALIDITY for {folder!r}")
        exists = int(data[0]) if data and data[0] is not None else 0
        return SelectedFolder(uidvalidity=int(validity[0]), exists=exists)

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending. (``n:*`` also matches the highest UID
        when it is below ``n``, so the answer is filtered.)"""
        status, data = self._client.uid("SEARCH", f"UID {last_uid + 1}:*")
        if status != "OK":
            raise ImapFailed(f"UID SEARCH refused: {_text(data)}")
        found = b" ".join(part for part in data if isinstance(part, bytes))
        return sorted(uid for uid in (int(word) for word in found.split()) if uid > last_uid)

    def fetch(self, uid: int) -> bytes | None:
        """The whole message, without setting \\Seen; None when it is gone (expunged)."""
        status, data = self._client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise ImapFailed(f"UID FETCH {uid} refused: {_text(data)}")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                found = _UID.search(part[0])
                if found is None or int(found[1]) == uid:
                    return bytes(part[1])
        return None

    def mark_seen(self, uid: int) -> None:
        status, data = self._client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
        if status != "OK":
            raise ImapFailed(f"UID STORE {uid} refused: {_text(data)}")


@contextmanager
def open_session(settings: ImapSettings) -> Iterator[ImapSession]:
    """Connect, protect (SSL or STARTTLS), log in; log out at the end. Raises ImapFailed."""
    client: imaplib.IMAP4 | None = None
    try:
        context = settings.tls_context or ssl.create_default_context()
        if settings.tls_mode == "ssl":
            client = imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=settings.timeout
            )
        else:
            client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            if settings.tls_mode == "starttls":
                client.starttls(ssl_context=context)
        client.login(settings.username, settings.password)
    except (imaplib.IMAP4.error, OSError, UnicodeError) as error:
        _close(client)
        raise ImapFailed(_describe(error, settings)) from None
    try:
        yield ImapSession(client)
    except (imaplib.IMAP4.error, OSError) as error:
        raise ImapFailed(_describe(error, settings)) from None
    finally:
        _close(client)


def _close(client: imaplib.IMAP4 | None) -> None:
    if client is None:
        return
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError):
        with suppress(OSError):
            client.shutdown()


def _describe(error: BaseException, settings: ImapSettings) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return f"timed out talking to {settings.host}:{settings.port}"
    if isinstance(error, UnicodeError):
        return "the user name or password has characters IMAP LOGIN cannot send"
    text = str(error).replace(settings.password, "[redacted]") if settings.password else str(error)
    return f"{type(error).__name__}: {text}"[:500]


def _text(data: Sequence[object] | None) -> str:
    parts = [
        part.decode(errors="replace") if isinstance(part, bytes) else str(part)
        for part in data or []
    ]
    return " ".join(parts)[:300]
