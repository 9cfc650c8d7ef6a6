"""The inbound pipeline's decisions (pure): is a message noise, a bounce, or something to take?

``decide`` runs ordered steps over an ``InboundMessage`` (Zammad's filter chain): the first step
that has an opinion wins, and a message no step objects to is taken. The order matters: a
delivery-status report usually also says ``Auto-Submitted`` and comes from a mailing list, and
must still be recognised as a bounce; mail from our own addresses is a loop whatever else it is.

Nothing here reads the clock or the database: our own addresses come in the context.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from closeloop.accounts.domain import IdentityKind
from closeloop.channels.base import InboundMessage
from closeloop.kit.i18n import LazyString, _
from closeloop.tickets.domain import Channel


@dataclass(frozen=True, slots=True)
class PipelineContext:
    """What the steps know besides the message: the addresses we send from (lower case) and
    the instant of the decision."""

    own_addresses: frozenset[str]
    now: datetime

    @property
    def own_domains(self) -> frozenset[str]:
        return frozenset(a.rpartition("@")[2] for a in self.own_addresses if "@" in a)


class DecisionKind(enum.StrEnum):
    take = "take"
    ignore = "ignore"
    bounce = "bounce"


class IgnoreReason(enum.StrEnum):
    own_address = "own_address"
    loop_header = "loop_header"
    system_sender = "system_sender"
    auto_submitted = "auto_submitted"
    auto_reply_header = "auto_reply_header"
    auto_reply_subject = "auto_reply_subject"
    bulk = "bulk"
    mailing_list = "mailing_list"
    delivery_delayed = "delivery_delayed"


# What admins read about an ignored message (rendered in their language).
IGNORE_REASON_TEXT: Mapping[IgnoreReason, LazyString] = {
    IgnoreReason.own_address: _("It was sent from one of our own addresses (a mail loop)."),
    IgnoreReason.loop_header: _("Its X-Loop header names us: it already went through here."),
    IgnoreReason.system_sender: _("It comes from a mail system account, not from a person."),
    IgnoreReason.auto_submitted: _("It was sent automatically (Auto-Submitted)."),
    IgnoreReason.auto_reply_header: _("It is an automatic reply (auto-reply header)."),
    IgnoreReason.auto_reply_subject: _("It is an automatic reply (out-of-office subject)."),
    IgnoreReason.bulk: _("It is bulk or junk mail (Precedence header)."),
    IgnoreReason.mailing_list: _("It was sent through a mailing list."),
    IgnoreReason.delivery_delayed: _("It only reports a delayed delivery, not a failure."),
}
BOUNCE_TEXT = _("A delivery failure report: the address was marked as failing.")


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reason: IgnoreReason | None = None
    # The header value or subject that decided, for the inbound record.
    detail: str = ""
    # For a bounce: the recipients whose delivery failed (lower case), when the report says.
    failing_addresses: tuple[str, ...] = ()

    @classmethod
    def take(cls) -> Decision:
        return cls(DecisionKind.take)

    @classmethod
    def ignore(cls, reason: IgnoreReason, detail: str = "") -> Decision:
        return cls(DecisionKind.ignore, reason=reason, detail=detail[:200])

    @classmethod
    def bounce(cls, failing_addresses: Iterable[str]) -> Decision:
        return cls(DecisionKind.bounce, failing_addresses=tuple(dict.fromkeys(failing_addresses)))

    @property
    def failing_address(self) -> str | None:
        return self.failing_addresses[0] if self.failing_addresses else None

    @property
    def text(self) -> LazyString:
        if self.kind is DecisionKind.bounce:
            return BOUNCE_TEXT
        assert self.reason is not None, "a taken message has no reason"
        return IGNORE_REASON_TEXT[self.reason]


# --- headers and addresses -------------------------------------------------------------------


def header(message: InboundMessage, name: str) -> str | None:
    """A header's value, whatever case the channel spelled its name in."""
    wanted = name.lower()
    for key, value in message.headers.items():
        if key.lower() == wanted:
            return str(value)
    return None


def sender_address(message: InboundMessage) -> str | None:
    if message.sender.kind is not IdentityKind.email:
        return None
    return message.sender.value.strip().lower()


_SYSTEM_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_NO_REPLY_LOCAL_PARTS = frozenset({"no-reply", "noreply", "do-not-reply", "donotreply"})


def _local_part(address: str) -> str:
    return address.rpartition("@")[0] if "@" in address else address


# --- subjects --------------------------------------------------------------------------------

# Reply and forward markers of the mail programs our users meet: English, Chinese (simplified
# and traditional), German (AW/WG), Nordic (SV/VS), Dutch (Antw), with counters like Re[2] or
# Re(2), ASCII or full-width colons.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|antw|回复|回覆|答复|答覆|转发|轉寄|转寄)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (repeated), whitespace collapsed."""
    text = _SPACES.sub(" ", subject).strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped.strip()


def subject_key(subject: str) -> str:
    """What two subjects must share to count as the same conversation: the normalised subject,
    case-folded. Empty for a subject with no words of its own."""
    return normalise_subject(subject).casefold()[:300].rstrip()


_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:自动回复|自動回覆|自动答复|automatic reply|auto(?:matic)?[ -]?reply|auto[ -]?response"
    r"|out of (?:the )?office|auto\s*:|automatische antwort|abwesenheitsnotiz|réponse automatique)",
    re.IGNORECASE,
)


def is_auto_reply_subject(subject: str) -> bool:
    return _AUTO_REPLY_SUBJECT.match(subject) is not None


# --- delivery-status reports ----------------------------------------------------------------

_BOUNCE_SUBJECT = re.compile(
    r"(?:undelivered mail returned to sender|delivery status notification \(failure\)"
    r"|mail delivery failed|undeliverable\s*:|returned mail\s*:|delivery has failed"
    r"|failure notice|退信|投递失败|未能送达)",
    re.IGNORECASE,
)
_DSN_FIELD = re.compile(
    r"^(?P<name>final-recipient|original-recipient|action|status)\s*:\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_ADDRESS = re.compile(r"[^\s<>;:\"',()\[\]]+@[^\s<>;:\"',()\[\]]+\.[A-Za-z]{2,}")


def is_delivery_report(message: InboundMessage) -> bool:
    content_type = (header(message, "Content-Type") or "").lower()
    if content_type.startswith("multipart/report") and (
        "report-type" not in content_type or "delivery-status" in content_type
    ):
        return True
    if message.metadata.get("dsn") or header(message, "X-Failed-Recipients"):
        return True
    address = sender_address(message) or ""
    if _local_part(address) == "mailer-daemon":
        return True
    return _BOUNCE_SUBJECT.search(message.subject) is not None


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One per-recipient block of a delivery-status report."""

    address: str
    action: str = ""
    status: str = ""

    @property
    def is_failure(self) -> bool:
        if self.action:
            return self.action == "failed"
        return not self.status.startswith(("2", "4"))


def _address_of(value: str) -> str | None:
    # "rfc822; user@example.com" (or a bare address).
    found = _ADDRESS.search(value.rpartition(";")[2] if ";" in value else value)
    return found.group(0).strip(".").lower() if found else None


_HUMAN_RECIPIENT = re.compile(
    r"^\s*(?:recipient address\s*:\s*|<)(?P<address>[^\s<>@]+@[^\s<>@]+\.[A-Za-z]{2,})>?\s*:?",
    re.IGNORECASE | re.MULTILINE,
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _statuses_from_text(text: str) -> list[RecipientStatus]:
    """Recipient blocks of a message/delivery-status text (RFC 3464): paragraphs separated by
    blank lines; one naming a Final-Recipient (or else an Original-Recipient) is one recipient,
    with its Action and Status."""
    found: list[RecipientStatus] = []
    for paragraph in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for match in _DSN_FIELD.finditer(paragraph):
            fields.setdefault(match.group("name").lower(), match.group("value"))
        address = _address_of(fields.get("final-recipient", "")) or _address_of(
            fields.get("original-recipient", "")
        )
        if address is not None:
            action = fields.get("action", "").split()
            found.append(
                RecipientStatus(
                    address,
                    action=action[0].lower() if action else "",
                    status=fields.get("status", "").strip(),
                )
            )
    return found


def _statuses_from_mapping(entry: Mapping[str, Any]) -> list[RecipientStatus]:
    """One recipient's fields; the email parser's summary also lists every failed recipient
    (``failed_recipients``) besides the one it describes."""
    found: list[RecipientStatus] = []
    listed = entry.get("failed_recipients") or entry.get("failed-recipients") or ()
    if isinstance(listed, str):
        listed = (listed,)
    for value in listed:
        address = _address_of(str(value))
        if address:
            found.append(RecipientStatus(address, action="failed"))
    fields = {
        str(k).lower().replace("_", "-"): str(v)
        for k, v in entry.items()
        if v and not isinstance(v, list | tuple)
    }
    for name in ("final-recipient", "original-recipient", "recipient"):
        address = _address_of(fields.get(name, ""))
        if address:
            described = RecipientStatus(
                address,
                action=fields.get("action", "").strip().lower(),
                status=fields.get("status", "").strip(),
            )
            return [described, *(s for s in found if s.address != address)]
    return found


def _failed_recipients_header(message: InboundMessage) -> list[RecipientStatus]:
    """Exim and others name the failed addresses in ``X-Failed-Recipients``."""
    value = header(message, "X-Failed-Recipients") or ""
    return [
        RecipientStatus(address, action="failed")
        for address in dict.fromkeys(
            m.group(0).strip(".").lower() for m in _ADDRESS.finditer(value)
        )
    ][:20]


def recipient_statuses(message: InboundMessage) -> list[RecipientStatus]:
    """The report's recipients: from ``metadata["dsn"]`` when the parser provides it (the
    delivery-status text, one mapping of its fields, or a list of them), else from the body."""
    dsn = message.metadata.get("dsn")
    found: list[RecipientStatus] = []
    if isinstance(dsn, str):
        found = _statuses_from_text(dsn)
    elif isinstance(dsn, Mapping):
        found = _statuses_from_mapping(dsn)
    elif isinstance(dsn, list | tuple):
        for entry in dsn:
            if isinstance(entry, Mapping):
                found.extend(_statuses_from_mapping(entry))
            elif isinstance(entry, str):
                found.extend(_statuses_from_text(entry))
    if not found:
        found = _statuses_from_text(message.body_text)
    if not found:
        found = _failed_recipients_header(message)
    if not found:
        # Reports without a machine-readable part: Postfix's "<user@example.com>: host ..."
        # or "Recipient address: user@example.com".
        found = [
            RecipientStatus(m.group("address").lower())
            for m in _HUMAN_RECIPIENT.finditer(message.body_text)
        ][:20]
    return found


def bounce_recipient(message: InboundMessage) -> str | None:
    """The first recipient whose delivery failed, as the report states it."""
    failing = [s.address for s in recipient_statuses(message) if s.is_failure]
    return failing[0] if failing else None


# --- the steps --------------------------------------------------------------------------------

Step = Callable[[InboundMessage, PipelineContext], Decision | None]


def loop_from_us(message: InboundMessage, context: PipelineContext) -> Decision | None:
    address = sender_address(message)
    if address is None:
        return None
    if address in context.own_addresses:
        return Decision.ignore(IgnoreReason.own_address, address)
    domain = address.rpartition("@")[2]
    if _local_part(address) in _NO_REPLY_LOCAL_PARTS and domain in context.own_domains:
        return Decision.ignore(IgnoreReason.own_address, address)
    return None


def loop_header(message: InboundMessage, context: PipelineContext) -> Decision | None:
    value = (header(message, "X-Loop") or "").lower()
    if value and any(address in value for address in context.own_addresses):
        return Decision.ignore(IgnoreReason.loop_header, value)
    return None


def delivery_report(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    if not is_delivery_report(message):
        return None
    statuses = recipient_statuses(message)
    failing = [s.address for s in statuses if s.is_failure]
    if statuses and not failing:
        return Decision.ignore(IgnoreReason.delivery_delayed, statuses[0].address)
    return Decision.bounce(failing)


def system_sender(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    address = sender_address(message)
    if address is not None and _local_part(address) in _SYSTEM_LOCAL_PARTS:
        return Decision.ignore(IgnoreReason.system_sender, address)
    # The null reverse path: mail that must never be answered (bounces, auto-replies, receipts;
    # RFC 5321 4.5.5, RFC 3834 3.3). People's mail always has a return address.
    return_path = header(message, "Return-Path")
    if return_path is not None and _NULL_PATH.match(return_path):
        return Decision.ignore(IgnoreReason.system_sender, "Return-Path: <>")
    return None


def auto_submitted(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    value = header(message, "Auto-Submitted")
    if value is None:
        return None
    # "auto-replied; owner-email=...", "no (written by a person)": the keyword comes first.
    keyword = _KEYWORD.match(value.strip())
    if keyword is not None and keyword.group(0).lower() != "no":
        return Decision.ignore(IgnoreReason.auto_submitted, value)
    return None


_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_NULL_PATH = re.compile(r"^\s*<\s*>\s*$")


def auto_reply_headers(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    for name in ("X-Autoreply", "X-Autorespond"):
        value = header(message, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return Decision.ignore(IgnoreReason.auto_reply_header, f"{name}: {value}")
    precedence = (header(message, "Precedence") or "").strip().lower()
    if precedence in ("auto_reply", "auto-reply"):
        return Decision.ignore(IgnoreReason.auto_reply_header, f"Precedence: {precedence}")
    suppress = header(message, "X-Auto-Response-Suppress")
    if suppress is not None:
        values = {v.strip().lower() for v in suppress.split(",")}
        if values & {"all", "oof", "autoreply"}:
            return Decision.ignore(
                IgnoreReason.auto_reply_header, f"X-Auto-Response-Suppress: {suppress}"
            )
    return None


def bulk_or_list(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    precedence = (header(message, "Precedence") or "").strip().lower()
    if precedence == "list" or (
        precedence in ("bulk", "junk", "list")
        and (header(message, "List-Id") or header(message, "List-Unsubscribe"))
    ):
        return Decision.ignore(IgnoreReason.mailing_list, header(message, "List-Id") or precedence)
    if precedence in ("bulk", "junk"):
        return Decision.ignore(IgnoreReason.bulk, precedence)
    return None


def auto_reply_subject(message: InboundMessage, _context: PipelineContext) -> Decision | None:
    if is_auto_reply_subject(message.subject):
        return Decision.ignore(IgnoreReason.auto_reply_subject, message.subject)
    return None


STEPS: tuple[Step, ...] = (
    loop_from_us,
    loop_header,
    delivery_report,
    system_sender,
    auto_submitted,
    auto_reply_headers,
    bulk_or_list,
    auto_reply_subject,
)


# Only mail has machines that answer by themselves (out-of-office, bounces, lists). A person who
# types "Automatic reply" as a web form subject, or writes from noreply@ their own company, is
# still a person: the steps would silently drop their request.
NOISY_CHANNELS = frozenset({Channel.email})


def decide(message: InboundMessage, context: PipelineContext) -> Decision:
    """Take, ignore (with the reason) or bounce (with the failing addresses)."""
    if message.channel not in NOISY_CHANNELS:
        return Decision.take()
    for step in STEPS:
        decision = step(message, context)
        if decision is not None:
            return decision
    return Decision.take()
