"""Notification email over SMTP (smtplib), with implicit TLS or STARTTLS when configured."""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from ssl import SSLContext, create_default_context

from closeloop.notifications.errors import DeliveryFailed, EmailNotConfigured

SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    mail_from: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = SMTP_TIMEOUT_SECONDS
    # Which certificates to trust; None means the system's (tests pass their own CA).
    tls_context: SSLContext | None = None

    @property
    def is_configured(self) -> bool:
        return bool(self.host)

    def context(self) -> SSLContext:
        return self.tls_context or create_default_context()


def _domain_of(mail_from: str) -> str:
    _name, address = parseaddr(mail_from)
    _local, _at, domain = address.rpartition("@")
    return domain.strip().lower() or "closeloop.invalid"


def message_id(delivery_key: str, mail_from: str) -> str:
    """The same delivery always has the same Message-ID, so a repeat is recognisable."""
    digest = hashlib.sha256(delivery_key.encode()).hexdigest()[:32]
    return f"<notification.{digest}@{_domain_of(mail_from)}>"


def build_email(
    *,
    mail_from: str,
    to_address: str,
    to_name: str,
    subject: str,
    text: str,
    delivery_key: str,
    at: datetime,
    locale: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = formataddr((to_name, to_address)) if to_name else to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(delivery_key, mail_from)
    # RFC 3834: an automatic message; mail servers and helpdesks must not auto-reply to it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, charset="utf-8")
    # After set_content, which drops every Content-* header set before it.
    message["Content-Language"] = locale.replace("_", "-")
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server; raises ``DeliveryFailed`` if it is not accepted."""
    if not settings.is_configured:
        raise EmailNotConfigured()
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
            refused = client.send_message(message)
    # UnicodeError: smtplib can send only ASCII user names and passwords.
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        raise DeliveryFailed(reason=f"{type(error).__name__}: {error}") from error
    if refused:
        raise DeliveryFailed(reason=f"recipients refused: {sorted(refused)}")
