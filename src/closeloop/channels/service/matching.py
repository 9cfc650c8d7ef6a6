"""Which ticket a message continues (reads only; the first step with an answer wins):

1. ``explicit``: the channel names the ticket (a customer's private link, a WeChat
   conversation). The sender must be able to read it, or the message is quarantined.
2. ``email_reference``: In-Reply-To, then References newest first, among the Message-IDs we
   stored for tickets. A sender who cannot read the ticket follows it from now on only when
   an email of the ticket was addressed to them (To/Cc: someone the requester copied in) and
   they do not belong to another company than the requester. Anyone else who learnt a
   Message-ID (a forward's recipient) is not trusted with the ticket: the search goes on,
   which usually opens a ticket of their own.
3. ``subject_number``: a ticket number in the subject, trusted only when the sender can read
   that ticket (requester, customer follower, company admin): guessing numbers opens nothing.
4. ``subject_window``: the same sender and normalised subject within the window, on a ticket
   that is not closed.

A merged ticket stands for its survivor. A closed ticket found by steps 1 to 3 gets a
follow-up ticket.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.channels import repository
from closeloop.channels.base import InboundMessage
from closeloop.channels.email.threading import (
    SubjectWindow,
    candidate_message_ids,
    ticket_number_in_subject,
)
from closeloop.channels.errors import TicketNotWritable
from closeloop.channels.pipeline import sender_address
from closeloop.db.session import UnitOfWork
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketStatus
from closeloop.tickets.errors import TicketNotFound

MAX_MERGE_HOPS = 20


class MatchStep(enum.StrEnum):
    explicit = "explicit"
    email_reference = "email_reference"
    subject_number = "subject_number"
    subject_window = "subject_window"
    new_ticket = "new_ticket"


@dataclass(frozen=True, slots=True)
class Target:
    step: MatchStep
    ticket_id: int | None = None
    is_closed: bool = False
    requester_id: int | None = None
    # The sender cannot read the ticket yet and becomes a follower of it.
    needs_following: bool = False
    # A ticket the message referred to (In-Reply-To/References) that its sender is not trusted
    # with: kept in the record, for agents.
    untrusted_reference: int | None = None


@dataclass(frozen=True, slots=True)
class _Found:
    ticket_id: int
    status: str
    requester_id: int
    company_id: int | None


def _survivor(uow: UnitOfWork, ticket_id: int) -> _Found | None:
    """The ticket, or the one it was merged into (transitively); None when it does not exist."""
    current = ticket_id
    for _hop in range(MAX_MERGE_HOPS):
        try:
            ticket = tickets.get_ticket(uow, ticket_id=current, actor=SYSTEM)
        except TicketNotFound:
            return None
        if ticket.merged_into_id is None:
            return _Found(ticket.id, ticket.status, ticket.requester_id, ticket.company_id)
        current = ticket.merged_into_id
    return None


def _may_read(uow: UnitOfWork, found: _Found, principal: Principal | None) -> bool:
    if principal is None:
        return False
    if found.requester_id == principal.id:
        return True  # the common case, without asking the tickets again
    ticket_id = found.ticket_id
    try:
        tickets.get_ticket(uow, ticket_id=ticket_id, actor=principal)
    except TicketNotFound:
        return False
    return True


def _target(step: MatchStep, found: _Found, *, needs_following: bool = False) -> Target:
    return Target(
        step=step,
        ticket_id=found.ticket_id,
        is_closed=found.status == TicketStatus.closed.value,
        requester_id=found.requester_id,
        needs_following=needs_following and found.status != TicketStatus.closed.value,
    )


def find_target(
    uow: UnitOfWork,
    message: InboundMessage,
    *,
    customer: accounts.CustomerRecord | None,
    subject_key: str,
    sender: str,
    window: SubjectWindow,
) -> Target:
    principal = accounts.principal_for_customer(customer) if customer is not None else None
    if message.ticket_id is not None:
        found = _survivor(uow, message.ticket_id)
        if found is None or not _may_read(uow, found, principal):
            raise TicketNotWritable(number=format_ticket_number(message.ticket_id))
        return _target(MatchStep.explicit, found)

    untrusted: int | None = None
    candidates = candidate_message_ids(message.in_reply_to, message.references)
    if candidates:
        known = repository.tickets_by_reference(uow.session, candidates)
        for candidate in candidates:
            if candidate not in known:
                continue
            found = _survivor(uow, known[candidate])
            if found is None:
                continue
            if _may_read(uow, found, principal):
                return _target(MatchStep.email_reference, found)
            if _was_addressed(uow, message, customer, found, known[candidate]):
                return _target(MatchStep.email_reference, found, needs_following=True)
            untrusted = found.ticket_id
            break
    target = _by_subject(uow, message, customer, principal, subject_key, sender, window)
    return dataclasses.replace(target, untrusted_reference=untrusted) if untrusted else target


def _was_addressed(
    uow: UnitOfWork,
    message: InboundMessage,
    customer: accounts.CustomerRecord | None,
    found: _Found,
    referenced_ticket_id: int,
) -> bool:
    """Whether a sender who may not read the ticket was copied in on it: an email of the
    ticket was addressed to them (To/Cc), and they are not of another company."""
    if customer is not None and customer.company_id not in (None, found.company_id):
        return False
    address = sender_address(message)
    if address is None:
        return False
    ticket_ids = {found.ticket_id, referenced_ticket_id}
    return address in repository.recipients_of_tickets(uow.session, ticket_ids)


def _by_subject(
    uow: UnitOfWork,
    message: InboundMessage,
    customer: accounts.CustomerRecord | None,
    principal: Principal | None,
    subject_key: str,
    sender: str,
    window: SubjectWindow,
) -> Target:
    number = ticket_number_in_subject(message.subject)
    if number is not None:
        found = _survivor(uow, number)
        if found is not None and _may_read(uow, found, principal):
            return _target(MatchStep.subject_number, found)

    since = window.since(message.received_at)
    if since is not None and subject_key and customer is not None:
        for ticket_id in repository.recent_tickets_of_conversation(
            uow.session,
            sender=sender,
            subject_key=subject_key,
            since=since,
            until=message.received_at,
        ):
            found = _survivor(uow, ticket_id)
            if (
                found is not None
                and found.status != TicketStatus.closed.value
                and _may_read(uow, found, principal)
            ):
                return _target(MatchStep.subject_window, found)
    return Target(step=MatchStep.new_ticket)
