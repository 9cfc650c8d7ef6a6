"""Raw test emails, built the way mail clients write them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def customer_email(
    *,
    subject: str = "打印机无法连接",
    body: str = "您好，办公室的打印机从早上开始无法连接。",
    sender: str = "王芳 <wang.fang@customer.example.cn>",
    to: str = "support@help.example.cn",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="customer.example.cn")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()
