"""Background jobs of the email channel.

``channels.email.poll`` (every minute, ``jobs/schedule.py``) starts one chain of
``channels.email.fetch`` jobs per active mailbox. Each fetch job takes **one** message, as an
:class:`~closeloop.jobs.ExternalEffect`:

1. ``prepare`` takes (or renews) the mailbox's poll lease: one chain per mailbox at a time,
   across every worker process; the worker commits it;
2. ``perform`` logs in, SELECTs the folder, compares UIDVALIDITY, flags the message taken by
   the previous job \\Seen (when the mailbox says so), lists the UIDs after the last one taken
   and fetches the first with ``BODY.PEEK[]``; no transaction is open meanwhile;
3. ``finish`` ingests it (or quarantines it) and advances ``last_uid`` in one transaction,
   which the worker commits with the job's success, then queues the next fetch of the chain.

So each message commits on its own: a worker killed anywhere loses nothing (the UID was not
advanced, the message is fetched again) and takes nothing twice (the message's id is taken
once: a refetch is a ``duplicate``). A changed UIDVALIDITY resets the state: the folder is read
again from the start and what was taken already comes back as duplicates.

``channels.email.send`` delivers one outgoing email (reply or acknowledgement) in the same three
steps as notifications: intent committed, send outside any transaction, result committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from closeloop.channels import service as channel_service
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.email import imap, intake, mailboxes, outbound, repository
from closeloop.channels.email.models import EmailMailbox, OutgoingEmail
from closeloop.channels.email.smtp import SendFailed, send_message
from closeloop.db.session import UnitOfWork
from closeloop.jobs import ExternalEffect, Handler, enqueue
from closeloop.jobs.domain import describe_error
from closeloop.kit.logging import get_logger

POLL_TASK = "channels.email.poll"
FETCH_TASK = "channels.email.fetch"
SEND_TASK = outbound.SEND_TASK
FETCH_MAX_ATTEMPTS = 3
VIA = "channel:email"
log = get_logger(__name__)


@dataclass(frozen=True)
class EmailContext:
    """What the email jobs need from the server's configuration (built in ``closeloop.wiring``)."""

    send: outbound.SendContext
    cipher: SecretBox
    imap_timeout: float = imap.DEFAULT_TIMEOUT_SECONDS
    poll_lease: timedelta = timedelta(minutes=2)


# --- channels.email.poll ---------------------------------------------------------------------


def poll(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Start a fetch chain for every active mailbox with an IMAP server (once per tick)."""
    slot = str(payload.get("slot") or uow.clock.now().isoformat())
    for mailbox_id in repository.active_polled_mailbox_ids(uow.session):
        enqueue(
            uow,
            FETCH_TASK,
            {"mailbox_id": mailbox_id, "token": secrets.token_hex(8)},
            idempotency_key=f"{FETCH_TASK}:{mailbox_id}@{slot}",
            max_attempts=FETCH_MAX_ATTEMPTS,
        )


# --- channels.email.fetch --------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPlan:
    mailbox_id: int
    token: str
    settings: imap.ImapSettings
    uidvalidity: int | None
    last_uid: int
    mark_seen: bool  # flag last_uid \Seen first (it was committed by the previous job)
    writable: bool  # the mailbox flags messages \Seen: open the folder read-write
    lease: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class FetchOutcome:
    uidvalidity: int | None = None
    uid: int | None = None  # the next message, None: nothing new
    raw: bytes | None = None  # None with a uid: the message vanished between SEARCH and FETCH
    error: str | None = None


def prepare_fetch(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: EmailContext
) -> FetchPlan | None:
    mailbox_id = int(payload["mailbox_id"])
    token = str(payload["token"])
    mailbox = repository.mailbox(uow.session, mailbox_id, for_update=True)
    if mailbox is None or not mailbox.is_active or not mailbox.imap_host:
        return None
    now = uow.clock.now()
    until = now + context.poll_lease
    if not repository.take_poll_lease(uow.session, mailbox_id, token=token, now=now, until=until):
        log.info("email.poll_skipped", mailbox_id=mailbox_id, reason="another poller holds it")
        return None
    # The UPDATE bypassed the loaded row: keep it in step (a release below must be written).
    mailbox.poll_token, mailbox.poll_locked_until = token, until
    try:
        settings = mailboxes.imap_settings(mailbox, context.cipher, timeout=context.imap_timeout)
    except SecretUnreadable:
        _release(mailbox)
        mailbox.last_error = mailboxes.UNREADABLE_PASSWORD_NOTE
        uow.session.flush()
        return None
    return FetchPlan(
        mailbox_id=mailbox_id,
        token=token,
        settings=settings,
        uidvalidity=mailbox.uidvalidity,
        last_uid=mailbox.last_uid,
        mark_seen=mailbox.mark_seen and bool(payload.get("continued")) and mailbox.last_uid > 0,
        writable=mailbox.mark_seen,
        lease=context.poll_lease,
    )


def perform_fetch(plan: FetchPlan) -> FetchOutcome:
    try:
        with imap.open_session(plan.settings) as session:
            folder = session.select(plan.settings.folder, readonly=not plan.writable)
            same = folder.uidvalidity == plan.uidvalidity
            if plan.mark_seen and same:
                try:
                    session.mark_seen(plan.last_uid)
                except imap.ImapFailed as error:  # only a flag: the message is stored
                    log.warning(
                        "email.mark_seen_failed", mailbox_id=plan.mailbox_id, error=str(error)
                    )
            uids = session.uids_after(plan.last_uid if same else 0)
            if not uids:
                return FetchOutcome(uidvalidity=folder.uidvalidity)
            return FetchOutcome(
                uidvalidity=folder.uidvalidity, uid=uids[0], raw=session.fetch(uids[0])
            )
    except imap.ImapFailed as error:
        return FetchOutcome(error=str(error))


def finish_fetch(uow: UnitOfWork, plan: FetchPlan, outcome: FetchOutcome) -> None:
    mailbox = repository.mailbox(uow.session, plan.mailbox_id, for_update=True)
    if mailbox is None or mailbox.poll_token != plan.token:
        return  # deleted, or another poller took over after this one's lease ran out
    now = uow.clock.now()
    mailbox.polled_at = now
    if outcome.error is not None:
        mailbox.last_error = describe_error(RuntimeError(outcome.error)).removeprefix(
            "RuntimeError: "
        )
        _release(mailbox)
        log.warning("email.poll_failed", mailbox_id=mailbox.id, error=mailbox.last_error)
        uow.session.flush()
        return
    if outcome.uidvalidity != mailbox.uidvalidity:
        if mailbox.uidvalidity is not None:
            log.warning(
                "email.uidvalidity_changed",
                mailbox_id=mailbox.id,
                old=mailbox.uidvalidity,
                new=outcome.uidvalidity,
            )
        mailbox.uidvalidity = outcome.uidvalidity
        mailbox.last_uid = 0
    mailbox.last_error = None
    if outcome.uid is None:
        _release(mailbox)
        uow.session.flush()
        return
    if outcome.uid > mailbox.last_uid:
        if outcome.raw is not None:
            intake.receive_or_quarantine(
                uow, outcome.raw, team_id=mailbox.team_id, received_at=now, via=VIA
            )
        mailbox.last_uid = outcome.uid
    mailbox.poll_locked_until = now + plan.lease
    uow.session.flush()
    # Unique per chain and position: a chain that starts over (a reset, a new UIDVALIDITY)
    # is not mistaken for one that ran before.
    position = f"{plan.token}:{mailbox.uidvalidity}:{mailbox.last_uid}"
    enqueue(
        uow,
        FETCH_TASK,
        {"mailbox_id": mailbox.id, "token": plan.token, "continued": True},
        idempotency_key=f"{FETCH_TASK}:{mailbox.id}:{position}",
        max_attempts=FETCH_MAX_ATTEMPTS,
    )


def _release(mailbox: EmailMailbox) -> None:
    mailbox.poll_token = None
    mailbox.poll_locked_until = None


# --- channels.email.send ---------------------------------------------------------------------


@dataclass(frozen=True)
class SendPlan:
    outgoing_id: int
    attempt: int
    composed: outbound.Composed
    to: str


SendOutcome = SendFailed | None


def prepare_send(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: EmailContext
) -> SendPlan | None:
    outgoing = repository.outgoing_for_sending(uow.session, int(payload["outgoing_id"]))
    if outgoing is None or outgoing.status != outbound.OutgoingStatus.pending.value:
        return None  # sent, skipped or cancelled already: a repeated job sends nothing
    now = uow.clock.now()
    if outgoing.send_started_at is not None:
        log.warning(
            "email.resending",
            outgoing_id=outgoing.id,
            interrupted_send_started_at=outgoing.send_started_at.isoformat(),
            reason="the previous attempt stopped mid-send: the email may have arrived",
        )
    outgoing.attempts += 1
    if channel_service.is_address_failing(uow, outgoing.to_address):
        _give_up(uow, outgoing, outbound.OutgoingStatus.skipped, "the address is failing (bounced)")
        return None
    if _is_our_own_address(uow, outgoing.to_address, context.send.mail_from):
        # A web form or API ticket "from" one of our mailboxes: the email would come back to
        # us (and be dropped as a loop); it reaches no customer.
        _give_up(uow, outgoing, outbound.OutgoingStatus.skipped, "the address is one of ours")
        return None
    if not context.send.smtp.is_configured:
        _give_up(
            uow,
            outgoing,
            outbound.OutgoingStatus.cancelled,
            "no SMTP server is configured (CLOSELOOP_SMTP_HOST)",
        )
        return None
    try:
        composed = outbound.compose(uow, outgoing, context.send, now)
    except (LookupError, FileNotFoundError, ValueError) as error:
        # Gone (message, attachment file) or refused by the email package: every retry would
        # fail the same way, so the row says why instead of the job dying with it pending.
        _give_up(uow, outgoing, outbound.OutgoingStatus.cancelled, describe_error(error))
        return None
    if outgoing.message_id_header is None:
        outgoing.message_id_header = composed.message_id_header
        channel_service.remember_email_reference(
            uow,
            message_id_header=composed.message_id_header,
            ticket_id=outgoing.ticket_id,
            message_id=outgoing.message_id,
        )
    outgoing.send_started_at = now
    uow.session.flush()
    return SendPlan(outgoing.id, outgoing.attempts, composed, outgoing.to_address)


def _is_our_own_address(uow: UnitOfWork, address: str, mail_from: str) -> bool:
    own = mailboxes.our_addresses(uow) | {parseaddr(mail_from)[1].strip().lower()}
    return address.strip().lower() in own


def _give_up(
    uow: UnitOfWork, outgoing: OutgoingEmail, status: outbound.OutgoingStatus, reason: str
) -> None:
    outgoing.status = status.value
    outgoing.last_error = reason[:2000]
    outgoing.send_started_at = None
    uow.session.flush()
    log.warning(
        "email.not_sent",
        outgoing_id=outgoing.id,
        kind=outgoing.kind,
        ticket_id=outgoing.ticket_id,
        status=status.value,
        reason=reason,
    )
    return


def perform_send(plan: SendPlan, *, context: EmailContext) -> SendOutcome:
    try:
        send_message(
            context.send.smtp,
            plan.composed.email,
            envelope_from=plan.composed.envelope_from,
            to=[plan.to],
        )
    except SendFailed as error:
        return error
    return None


def finish_send(uow: UnitOfWork, plan: SendPlan, outcome: SendOutcome) -> SendFailed | None:
    outgoing = repository.outgoing_for_sending(uow.session, plan.outgoing_id)
    if (
        outgoing is None
        or outgoing.status != outbound.OutgoingStatus.pending.value
        or outgoing.attempts != plan.attempt
    ):
        return outcome  # a newer attempt took over (this worker's lease had expired)
    outgoing.send_started_at = None
    if outcome is None:
        outgoing.status = outbound.OutgoingStatus.sent.value
        outgoing.sent_at = uow.clock.now()
        outgoing.last_error = None
        uow.session.flush()
        log.info(
            "email.sent", outgoing_id=outgoing.id, kind=outgoing.kind, ticket_id=outgoing.ticket_id
        )
        return None
    outgoing.last_error = describe_error(outcome)
    if outcome.permanent:
        outgoing.status = outbound.OutgoingStatus.cancelled.value
        uow.session.flush()
        log.warning("email.refused", outgoing_id=outgoing.id, error=outgoing.last_error)
        return None
    uow.session.flush()
    log.warning("email.send_failed", outgoing_id=outgoing.id, attempt=outgoing.attempts)
    return outcome


# --- registration ----------------------------------------------------------------------------


def email_tasks(
    context: Callable[[], EmailContext],
) -> dict[str, Handler | ExternalEffect[Any, Any]]:
    """The email channel's tasks, bound to the server's configuration (read when first used)."""

    return {
        POLL_TASK: poll,
        FETCH_TASK: ExternalEffect(
            prepare=lambda uow, payload: prepare_fetch(uow, payload, context=context()),
            perform=perform_fetch,
            finish=finish_fetch,
        ),
        SEND_TASK: ExternalEffect(
            prepare=lambda uow, payload: prepare_send(uow, payload, context=context()),
            perform=lambda plan: perform_send(plan, context=context()),
            finish=finish_send,
        ),
    }
