"""Merging a ticket into another: the conversation moves, the source closes and points on.

The source keeps its subject and description and can still be read (it shows
``merged_into_id``); changing it answers 409 ``ticket.merged``. The survivor receives the
messages and attachments, the union of tags and followers, the source's requester as a follower
when the requesters differ, and an internal note quoting the source's description.
"""

from __future__ import annotations

from datetime import datetime

from closeloop.accounts.domain import Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number
from closeloop.kit.search_tokens import document_text
from closeloop.tickets import permissions, repository
from closeloop.tickets.domain import MAX_TAGS, Channel, LinkKind, MessageKind, TicketStatus
from closeloop.tickets.errors import (
    FollowerNotAllowed,
    FollowerOfOtherCompany,
    MergeNotAllowed,
    TicketActionDenied,
    TicketNotFound,
)
from closeloop.tickets.events import StatusChanged, TicketsMerged
from closeloop.tickets.models import Attachment, Message, Ticket, TicketFollower, TicketLink
from closeloop.tickets.schemas import MessageCreate
from closeloop.tickets.service._common import load_for_change, load_visible, record
from closeloop.tickets.service.followers import check_customer_follower
from closeloop.tickets.service.messages import add_message

# Room for the note's heading inside a message body (MessageCreate allows 100,000 characters).
_MAX_QUOTED_DESCRIPTION = 90_000


def merge_tickets(
    uow: UnitOfWork,
    *,
    source_ticket_id: int,
    into_ticket_id: int,
    expected_version: int | None,
    actor: Principal,
    via: str,
    channel: Channel = Channel.api,
) -> Ticket:
    """Merge ``source_ticket_id`` into ``into_ticket_id``; return the survivor.

    ``expected_version`` is the source's version (the ticket that ends). Agents only.
    """
    # Lock both rows in id order, so two opposite merges queue instead of deadlocking.
    for ticket_id in sorted({source_ticket_id, into_ticket_id}):
        if repository.get_visible(uow.session, ticket_id, actor, for_update=True) is None:
            raise TicketNotFound(ticket_id=ticket_id)
    if not permissions.can_merge_or_link(actor):
        raise TicketActionDenied(action=_("merge it"))
    source_number = format_ticket_number(source_ticket_id)
    target_number = format_ticket_number(into_ticket_id)
    if source_ticket_id == into_ticket_id:
        raise MergeNotAllowed(
            source=source_number,
            target=target_number,
            reason=_("a ticket cannot be merged into itself."),
        )
    source = load_for_change(uow, source_ticket_id, actor, expected_version=expected_version)
    survivor = load_visible(uow, into_ticket_id, actor)
    if survivor.merged_into_id is not None:
        raise MergeNotAllowed(
            source=source_number,
            target=target_number,
            reason=_("the target was itself merged into another ticket; merge into that one."),
        )
    if survivor.status == TicketStatus.closed.value:
        raise MergeNotAllowed(
            source=source_number,
            target=target_number,
            reason=_("the target is closed."),
        )
    if source.requester_id != survivor.requester_id:
        # The source's requester will follow the survivor, so the follower rule applies.
        try:
            check_customer_follower(uow, survivor, source.requester_id, added_by=actor)
        except FollowerOfOtherCompany as error:
            raise MergeNotAllowed(
                source=source_number,
                target=target_number,
                reason=_("the requesters belong to different companies."),
            ) from error
    now = uow.clock.now()
    moved = repository.move_messages(uow.session, source.id, survivor.id)
    _forget_moved_rows(uow, source.id)
    survivor_changes = [Change("merged_from", None, {"ticket_id": source.id, "messages": moved})]
    survivor_changes += _unite_tags(uow, source, survivor)
    survivor_changes += _unite_followers(uow, source, survivor, actor)
    source_changes = _close_as_merged(source, survivor, now)
    uow.session.add(
        TicketLink(
            source_ticket_id=source.id,
            target_ticket_id=survivor.id,
            kind=LinkKind.merged_into.value,
            created_by_agent_id=actor.id if actor.is_agent else None,
            created_at=now,
        )
    )
    survivor.updated_at = now
    uow.session.flush()
    _rebuild_document(uow, survivor)
    _rebuild_document(uow, source)
    record(
        uow,
        source,
        action="ticket.merged",
        actor=actor,
        via=via,
        changes=source_changes,
        is_public=True,
    )
    record(uow, survivor, action="ticket.merged", actor=actor, via=via, changes=survivor_changes)
    _add_merge_note(uow, source, survivor, actor=actor, via=via, channel=channel)
    uow.publish(
        StatusChanged(
            ticket_id=source.id,
            old_status=str(source_changes[0].old),
            new_status=TicketStatus.closed.value,
        )
    )
    uow.publish(TicketsMerged(source_ticket_id=source.id, survivor_ticket_id=survivor.id))
    return survivor


def _forget_moved_rows(uow: UnitOfWork, source_id: int) -> None:
    """The move is a bulk UPDATE: reload loaded messages and attachments on next access."""
    for loaded in list(uow.session.identity_map.values()):
        if isinstance(loaded, Message | Attachment) and loaded.ticket_id == source_id:
            uow.session.expire(loaded)


def _unite_tags(uow: UnitOfWork, source: Ticket, survivor: Ticket) -> list[Change]:
    tags = list(dict.fromkeys([*survivor.tags, *source.tags]))[:MAX_TAGS]
    if tags == list(survivor.tags):
        return []
    change = Change("tags", list(survivor.tags), tags)
    survivor.tags = tags
    repository.replace_tags(uow.session, survivor.id, tags, new=False)
    return [change]


def _unite_followers(
    uow: UnitOfWork, source: Ticket, survivor: Ticket, actor: Principal
) -> list[Change]:
    present = repository.followers_of(uow.session, survivor.id)
    agents = {f.agent_id for f in present if f.agent_id is not None}
    customers = {f.customer_id for f in present if f.customer_id is not None}
    customers.add(survivor.requester_id)  # told of everything anyway
    wanted: list[tuple[int | None, int | None]] = []
    for follower in repository.followers_of(uow.session, source.id):
        if follower.agent_id is not None and follower.agent_id not in agents:
            wanted.append((follower.agent_id, None))
            agents.add(follower.agent_id)
        elif follower.customer_id is not None and follower.customer_id not in customers:
            customers.add(follower.customer_id)
            if _may_follow(uow, survivor, follower.customer_id, actor):
                wanted.append((None, follower.customer_id))
    if source.requester_id not in customers:
        wanted.append((None, source.requester_id))
    changes: list[Change] = []
    for agent_id, customer_id in wanted:
        follower = TicketFollower(
            ticket_id=survivor.id,
            agent_id=agent_id,
            customer_id=customer_id,
            created_at=uow.clock.now(),
        )
        uow.session.add(follower)
        uow.session.flush()
        changes.append(
            Change(
                "follower",
                None,
                {"id": follower.id, "agent_id": agent_id, "customer_id": customer_id},
            )
        )
    return changes


def _may_follow(uow: UnitOfWork, survivor: Ticket, customer_id: int, actor: Principal) -> bool:
    """Following grants reading: a source follower outside the survivor's company stays behind."""
    try:
        check_customer_follower(uow, survivor, customer_id, added_by=actor)
    except (FollowerNotAllowed, FollowerOfOtherCompany):
        return False
    return True


def _close_as_merged(source: Ticket, survivor: Ticket, now: datetime) -> list[Change]:
    changes = [
        Change("status", source.status, TicketStatus.closed.value),
        Change("merged_into_id", None, survivor.id),
    ]
    if source.pending_reason is not None:
        changes.append(Change("pending_reason", source.pending_reason, None))
        source.pending_reason = None
    source.status = TicketStatus.closed.value
    source.merged_into_id = survivor.id
    source.closed_at = now
    source.updated_at = now
    return changes


def _rebuild_document(uow: UnitOfWork, ticket: Ticket) -> None:
    bodies = [
        m.body_text for m in repository.messages_of(uow.session, ticket.id, include_internal=False)
    ]
    repository.index_document(
        uow.session,
        ticket.id,
        document_text(ticket.subject, ticket.description, *bodies),
        new=False,
    )


def _add_merge_note(
    uow: UnitOfWork,
    source: Ticket,
    survivor: Ticket,
    *,
    actor: Principal,
    via: str,
    channel: Channel,
) -> None:
    """Agents working the survivor see what the source asked (its description is no message)."""
    heading = _("{number} «{subject}» was merged into this ticket.").render(
        actor.locale, number=format_ticket_number(source.id), subject=source.subject
    )
    description = source.description.strip()[:_MAX_QUOTED_DESCRIPTION]
    body = f"{heading}\n\n{description}" if description else heading
    add_message(
        uow,
        ticket_id=survivor.id,
        data=MessageCreate(kind=MessageKind.internal_note, body=body),
        actor=actor,
        via=via,
        channel=channel,
    )
