"""Email to customers: an agent's public reply on an email ticket, and the acknowledgement of a
new email or web-form ticket. Queued in the transaction of the change (``queue_*``), composed and
sent by the ``channels.email.send`` job (``channels/email/tasks.py``).

Threading: each email gets a Message-ID we make (``<tk-123.m-456.<random>@<team domain>>``),
kept on the row so a resend repeats it; In-Reply-To names the customer's last email, References
the thread (``email_references_for_ticket``, oldest first, at most 20); the subject carries the
ticket number. So the customer's answer threads back by In-Reply-To, or at worst by the number.
"""

from __future__ import annotations

import enum
import html
import mimetypes
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.channels import service as channel_service
from closeloop.channels.email import repository
from closeloop.channels.email.models import OutgoingEmail
from closeloop.channels.email.smtp import SmtpSettings
from closeloop.channels.email.threading import normalise_message_id
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.kit.ids import format_ticket_number
from closeloop.kit.logging import get_logger
from closeloop.tickets import service as ticket_service
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.customer_links import customer_link_path
from closeloop.tickets.domain import Channel, MessageKind

SEND_TASK = "channels.email.send"
REFERENCES_CAP = 20
# Tickets whose customer hears of replies by email: those that came by email or the web form
# (and whose requester has an email address).
EMAIL_TICKET_CHANNELS = frozenset({Channel.email.value, Channel.web.value})
# What may not stand in a header value: C0 and C1 controls (CR and LF among them) and the
# Unicode line and paragraph separators. ``EmailMessage`` refuses a header value that
# ``str.splitlines`` would split (it raises rather than inject), so one such character in a
# subject or a name -- from the web form, the API, a webhook -- would make the email unsendable.
_NOT_IN_HEADER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
log = get_logger(__name__)


class OutgoingKind(enum.StrEnum):
    reply = "reply"
    acknowledgement = "acknowledgement"


class OutgoingStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"  # the address is failing (it bounced): nothing was sent
    cancelled = "cancelled"  # refused for good, or nothing left to send


# --- acknowledgement templates -----------------------------------------------------------------

PLACEHOLDERS = ("number", "subject", "link", "customer_name", "team")
DEFAULT_ACKNOWLEDGEMENT: dict[str, tuple[str, str]] = {
    "zh_CN": (
        "我们已收到您的请求：{subject} [{number}]",
        "{customer_name}，您好：\n\n"
        "我们已收到您的请求「{subject}」，工单号为 {number}。我们会尽快回复您。\n\n"
        "查看处理进度：{link}\n\n"
        "如需补充信息，直接回复本邮件即可。\n\n"
        "{team}",
    ),
    "en": (
        "We received your request: {subject} [{number}]",
        "Hello {customer_name},\n\n"
        'We received your request "{subject}" as ticket {number} and will answer as soon as '
        "we can.\n\n"
        "Follow it here: {link}\n\n"
        "To add anything, just reply to this email.\n\n"
        "{team}",
    ),
}


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` for each known placeholder; anything else stays as written."""
    text = template
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", values.get(name, ""))
    return text


def acknowledgement_text(
    locale: str,
    values: dict[str, str],
    *,
    subject_zh: str = "",
    body_zh: str = "",
    subject_en: str = "",
    body_en: str = "",
) -> tuple[str, str]:
    """The (subject, body) in ``locale`` (Chinese for zh*, else English): the team's template
    where it is filled in, the defaults where it is empty."""
    chinese = locale.lower().startswith("zh")
    default_subject, default_body = DEFAULT_ACKNOWLEDGEMENT["zh_CN" if chinese else "en"]
    subject = (subject_zh if chinese else subject_en).strip() or default_subject
    body = (
        (body_zh if chinese else body_en)
        if (body_zh if chinese else body_en).strip()
        else default_body
    )
    return fill(subject, values), fill(body, values)


# --- headers -------------------------------------------------------------------------------------


def header_safe(text: str) -> str:
    """``text`` as one line fit for a header: line breaks and control characters become a
    space (the customer's subject and name are free text)."""
    return " ".join(_NOT_IN_HEADER.sub(" ", text).split())


def domain_of(address: str) -> str:
    _name, parsed = parseaddr(address)
    _local, at, domain = parsed.rpartition("@")
    return (domain.strip().lower() if at else "") or "closeloop.invalid"


def new_message_id(ticket_id: int, message_id: int | None, domain: str) -> str:
    part = f"m-{message_id}" if message_id is not None else "ack"
    return f"<tk-{ticket_id}.{part}.{secrets.token_hex(8)}@{domain}>"


def angle(message_id: str) -> str:
    text = message_id.strip()
    return text if text.startswith("<") else f"<{text}>"


def reply_subject(subject: str, number: str) -> str:
    text = header_safe(subject)
    if number not in text:
        text = f"{text} [{number}]"
    return text if text.lower().startswith("re:") else f"Re: {text}"


def capped_references(references: list[str], in_reply_to: str | None) -> list[str]:
    """The thread's Message-IDs oldest first, each once (In-Reply-To added at the end when the
    thread does not know it); at most :data:`REFERENCES_CAP`: the first one, the root of the
    thread, and the newest ones, as RFC 5322 suggests for long threads."""
    ordered = list(dict.fromkeys(angle(r) for r in references if r.strip()))
    if in_reply_to is not None and in_reply_to not in ordered:
        ordered.append(in_reply_to)
    if len(ordered) > REFERENCES_CAP:
        ordered = ordered[:1] + ordered[-(REFERENCES_CAP - 1) :]
    return ordered


# --- queueing (in the transaction of the change) -------------------------------------------------


def requester_email(uow: UnitOfWork, customer_id: int) -> str | None:
    identities = [
        i for i in accounts.identities_of(uow, [customer_id]) if i.kind == IdentityKind.email.value
    ]
    identities.sort(key=lambda i: (not i.is_primary, i.id))
    return identities[0].value if identities else None


def queue_reply(uow: UnitOfWork, *, ticket_id: int, message_id: int) -> OutgoingEmail | None:
    """Email an agent's public reply to the requester, if the ticket is an email ticket."""
    ticket = ticket_service.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    if ticket.channel not in EMAIL_TICKET_CHANNELS:
        return None
    address = requester_email(uow, ticket.requester_id)
    if address is None:
        return None
    return _queue(
        uow, OutgoingKind.reply, f"reply:message:{message_id}", ticket_id, message_id, address
    )


def queue_acknowledgement(uow: UnitOfWork, *, ticket_id: int) -> OutgoingEmail | None:
    """Acknowledge a new email or web-form ticket, at most once per ticket."""
    ticket = ticket_service.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    if ticket.channel not in EMAIL_TICKET_CHANNELS:
        return None
    address = requester_email(uow, ticket.requester_id)
    if address is None:
        return None
    key = f"acknowledgement:ticket:{ticket_id}"
    return _queue(uow, OutgoingKind.acknowledgement, key, ticket_id, None, address)


def _queue(
    uow: UnitOfWork,
    kind: OutgoingKind,
    key: str,
    ticket_id: int,
    message_id: int | None,
    address: str,
) -> OutgoingEmail:
    existing = repository.outgoing_by_key(uow.session, key)
    if existing is not None:
        return existing
    outgoing = OutgoingEmail(
        kind=kind.value,
        dedupe_key=key,
        ticket_id=ticket_id,
        message_id=message_id,
        to_address=address,
        status=OutgoingStatus.pending.value,
        attempts=0,
        created_at=uow.clock.now(),
    )
    uow.session.add(outgoing)
    uow.session.flush()
    enqueue(
        uow, SEND_TASK, {"outgoing_id": outgoing.id}, idempotency_key=f"{SEND_TASK}:{outgoing.id}"
    )
    return outgoing


# --- composing (step 1 of the send job) -----------------------------------------------------------


@dataclass(frozen=True)
class SendContext:
    """What sending needs from the server's configuration (built in ``closeloop.wiring``)."""

    smtp: SmtpSettings
    mail_from: str
    public_base_url: str
    secret_key: str
    attachments_dir: Path


@dataclass(frozen=True)
class Composed:
    email: EmailMessage
    envelope_from: str
    message_id_header: str


def compose(
    uow: UnitOfWork, outgoing: OutgoingEmail, context: SendContext, now: datetime
) -> Composed:
    ticket = ticket_service.get_ticket(uow, ticket_id=outgoing.ticket_id, actor=SYSTEM)
    customer = accounts.get_customer(uow, ticket.requester_id)
    sender, sender_address = _sender(uow, ticket.team_id, context.mail_from)
    number = format_ticket_number(ticket.id)
    link = context.public_base_url.rstrip("/") + customer_link_path(context.secret_key, ticket.id)
    message_id_header = outgoing.message_id_header or new_message_id(
        ticket.id, outgoing.message_id, domain_of(sender_address)
    )
    thread = ticket_service.list_messages(uow, ticket_id=ticket.id, actor=SYSTEM)
    # The customer's emails by Message-ID. An email that came without a usable one is kept
    # under a digest of its bytes ("sha256:…"), which is no Message-ID and must not be named.
    customer_emails = [
        message_id
        for m, _files in thread
        if m.kind == MessageKind.customer_message.value
        and m.channel == Channel.email.value
        and m.external_id
        and (outgoing.message_id is None or m.id < outgoing.message_id)
        and (message_id := normalise_message_id(m.external_id)) is not None
    ]
    in_reply_to = angle(customer_emails[-1]) if customer_emails else None
    references = capped_references(
        channel_service.email_references_for_ticket(uow, ticket.id), in_reply_to
    )
    references = [r for r in references if r != message_id_header]

    email = EmailMessage()
    email["From"] = sender
    customer_name = header_safe(customer.name)
    email["To"] = (
        formataddr((customer_name, outgoing.to_address)) if customer_name else outgoing.to_address
    )
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id_header
    if in_reply_to is not None:
        email["In-Reply-To"] = in_reply_to
    if references:
        email["References"] = " ".join(references)
    email["X-Closeloop-Ticket"] = number
    # Our own address: mail carrying it back to us is a loop (channels/pipeline.py).
    email["X-Loop"] = sender_address
    if outgoing.kind == OutgoingKind.acknowledgement.value:
        locale = customer.locale or accounts.get_organisation(uow).default_locale
        row = repository.team_settings(uow.session, ticket.team_id) if ticket.team_id else None
        team_name = _team_name(uow, ticket.team_id)
        values = {
            "number": number,
            "subject": ticket.subject,
            "link": link,
            "customer_name": customer.name,
            "team": (row.sender_name if row and row.sender_name else team_name),
        }
        subject, body = acknowledgement_text(
            locale,
            values,
            subject_zh=row.acknowledgement_subject_zh if row else "",
            body_zh=row.acknowledgement_body_zh if row else "",
            subject_en=row.acknowledgement_subject_en if row else "",
            body_en=row.acknowledgement_body_en if row else "",
        )
        email["Subject"] = header_safe(subject)
        # RFC 3834: an automatic answer; mail servers and help desks must not answer it.
        email["Auto-Submitted"] = "auto-replied"
        email["X-Auto-Response-Suppress"] = "All"
        email.set_content(body, charset="utf-8")
        email.add_alternative(_html_of_text(body), subtype="html", charset="utf-8")
        return Composed(email, sender_address, message_id_header)

    found = [(m, files) for m, files in thread if m.id == outgoing.message_id]
    if not found:
        raise LookupError(f"message {outgoing.message_id} is not on ticket {ticket.id}")
    message, files = found[0]
    footer = f"\n\n--\n{number} · {link}"
    email["Subject"] = reply_subject(ticket.subject, number)
    email.set_content(message.body_text + footer, charset="utf-8")
    body_html = message.body_html or _html_of_text(message.body_text)
    footer_html = (
        f'<hr><p style="color:#666;font-size:12px">{html.escape(number)} · '
        f'<a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    )
    email.add_alternative(body_html + footer_html, subtype="html", charset="utf-8")
    store = AttachmentStore(context.attachments_dir)
    for attachment in files:
        with store.open(attachment.sha256) as content:
            data = content.read()
        maintype, _slash, subtype = (
            attachment.content_type
            or mimetypes.guess_type(attachment.filename)[0]
            or "application/octet-stream"
        ).partition("/")
        email.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename
        )
    return Composed(email, sender_address, message_id_header)


def _team_name(uow: UnitOfWork, team_id: int | None) -> str:
    return accounts.get_team(uow, team_id).name if team_id is not None else ""


def _sender(uow: UnitOfWork, team_id: int | None, mail_from: str) -> tuple[str, str]:
    """(From header, envelope sender): the team's mailbox with its display name, else the
    server's ``mail_from``."""
    mailbox = repository.team_mailbox(uow.session, team_id) if team_id is not None else None
    if mailbox is None:
        return mail_from, parseaddr(mail_from)[1] or mail_from
    row = repository.team_settings(uow.session, mailbox.team_id)
    name = (row.sender_name if row is not None and row.sender_name else "") or _team_name(
        uow, mailbox.team_id
    )
    name = header_safe(name)
    return formataddr((name, mailbox.address)) if name else mailbox.address, mailbox.address


def _html_of_text(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
