"""Handing an email to the SMTP server (smtplib), with implicit TLS or STARTTLS when set.

The email channel's own small sender: channels and notifications are independent siblings.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from ssl import SSLContext, create_default_context

SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = SMTP_TIMEOUT_SECONDS
    tls_context: SSLContext | None = None

    @property
    def is_configured(self) -> bool:
        return bool(self.host)

    def context(self) -> SSLContext:
        return self.tls_context or create_default_context()

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, port={self.port}, username={self.username!r})"


class SendFailed(Exception):
    """The server did not take the message. ``permanent``: it refused the recipient for good
    (a 5xx answer), so retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def send_message(
    settings: SmtpSettings, message: EmailMessage, *, envelope_from: str, to: Sequence[str]
) -> None:
    """Send ``message`` to ``to``; raises :class:`SendFailed` unless every recipient is taken."""
    try:
        client: smtplib.SMTP
        if settings.ssl:
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=settings.context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls and not settings.ssl:
                client.starttls(context=settings.context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            refused = client.send_message(message, from_addr=envelope_from, to_addrs=list(to))
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        raise SendFailed(f"recipients refused: {error.recipients}", permanent=permanent) from None
    except smtplib.SMTPResponseException as error:
        # A refused login or sender is a configuration problem: retried until it is fixed.
        raise SendFailed(f"{error.smtp_code} {error.smtp_error!r}") from None
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        raise SendFailed(f"{type(error).__name__}: {error}") from None
    if refused:
        raise SendFailed(f"recipients refused: {sorted(refused)}")
