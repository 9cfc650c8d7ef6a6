"""The conversation: customer messages, public replies and internal notes."""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts.domain import Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.i18n import _
from closeloop.kit.sanitize import html_to_text, sanitize_html
from closeloop.kit.search_tokens import document_text
from closeloop.tickets import permissions, repository
from closeloop.tickets.domain import (
    Channel,
    MessageKind,
    TicketStatus,
    follower_recipients,
    status_after_customer_message,
    status_after_public_reply,
)
from closeloop.tickets.errors import TicketActionDenied
from closeloop.tickets.events import MessageAdded, StatusChanged
from closeloop.tickets.models import Attachment, Message
from closeloop.tickets.schemas import MessageCreate
from closeloop.tickets.service._common import load_for_change, load_visible, record


def add_message(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    data: MessageCreate,
    actor: Principal,
    via: str,
    channel: Channel = Channel.api,
    external_id: str | None = None,
) -> Message:
    # Visibility first: a ticket the caller may not see answers 404 whatever they tried.
    # Messages need no version: posting is not a blind overwrite, and the row lock orders them.
    ticket = load_for_change(uow, ticket_id, actor, expected_version=None, require_version=False)
    kind = MessageKind.customer_message if actor.is_customer else data.kind
    if actor.is_customer and "kind" in data.model_fields_set and data.kind is not kind:
        raise TicketActionDenied(action=_("post this kind of message"))
    if not permissions.can_post(actor, kind):
        raise TicketActionDenied(action=_("post this kind of message"))
    body_html = sanitize_html(data.body_html) if data.body_html else None
    body_text = data.body.strip() or (html_to_text(body_html) if body_html else "")
    attachments = _claim_attachments(uow, ticket.id, data.attachment_ids)
    now = uow.clock.now()
    message = Message(
        ticket_id=ticket.id,
        kind=kind.value,
        author_agent_id=actor.id if actor.is_agent else None,
        author_customer_id=actor.id if actor.is_customer else None,
        body_text=body_text,
        body_html=body_html,
        channel=channel.value,
        external_id=external_id,
        created_at=now,
    )
    uow.session.add(message)
    uow.session.flush()
    for attachment in attachments:
        attachment.message_id = message.id
    changes = [Change("message", None, {"id": message.id, "kind": kind.value})]
    current = TicketStatus(ticket.status)
    new_status = current
    if kind is MessageKind.customer_message:
        new_status = status_after_customer_message(current)
    elif kind is MessageKind.public_reply:
        new_status = status_after_public_reply(current)
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            changes.append(Change("first_response_at", None, now.isoformat()))
    if new_status is not current:
        changes.append(Change("status", current.value, new_status.value))
        if current is TicketStatus.pending:
            changes.append(Change("pending_reason", ticket.pending_reason, None))
            ticket.pending_reason = None
        if current is TicketStatus.resolved:
            ticket.resolved_at = None
        ticket.status = new_status.value
    ticket.updated_at = now
    uow.session.flush()
    if kind.is_public and body_text:
        repository.append_to_document(uow.session, ticket.id, document_text(body_text))
    record(
        uow,
        ticket,
        action="message.added",
        actor=actor,
        via=via,
        changes=changes,
        is_public=kind.is_public,
    )
    followers = repository.followers_of(uow.session, ticket.id)
    agents, customers = follower_recipients(
        message_kind=kind,
        agent_follower_ids=[f.agent_id for f in followers if f.agent_id is not None],
        customer_follower_ids=[f.customer_id for f in followers if f.customer_id is not None],
        author_agent_id=message.author_agent_id,
        author_customer_id=message.author_customer_id,
    )
    uow.publish(
        MessageAdded(
            ticket_id=ticket.id,
            message_id=message.id,
            kind=kind.value,
            agent_follower_ids=tuple(agents),
            customer_follower_ids=tuple(customers),
        )
    )
    if new_status is not current:
        uow.publish(
            StatusChanged(
                ticket_id=ticket.id, old_status=current.value, new_status=new_status.value
            )
        )
    return message


def message_attachments(uow: UnitOfWork, *, message: Message) -> list[Attachment]:
    """The attachments of a message the caller already holds (e.g. the one just posted)."""
    return [
        a
        for a in repository.attachments_of(uow.session, message.ticket_id)
        if a.message_id == message.id
    ]


def _claim_attachments(uow: UnitOfWork, ticket_id: int, ids: Sequence[int]) -> list[Attachment]:
    wanted = list(dict.fromkeys(ids))
    found = {a.id: a for a in repository.attachments_by_id(uow.session, ticket_id, wanted)}
    problems = [
        {
            "field": "attachment_ids",
            "code": "unknown_attachment" if i not in found else "already_attached",
            "message": f"Attachment {i} is not an unattached upload of this ticket.",
        }
        for i in wanted
        if i not in found or found[i].message_id is not None
    ]
    if problems:
        raise ValidationFailed(errors=problems)
    return [found[i] for i in wanted]


def list_messages(
    uow: UnitOfWork, *, ticket_id: int, actor: Principal
) -> list[tuple[Message, list[Attachment]]]:
    """The thread in order, with attachments; customers never see internal notes."""
    ticket = load_visible(uow, ticket_id, actor)
    messages = repository.messages_of(
        uow.session, ticket.id, include_internal=permissions.can_see_internal(actor)
    )
    by_message: dict[int, list[Attachment]] = {}
    for attachment in repository.attachments_of(uow.session, ticket.id):
        if attachment.message_id is not None:
            by_message.setdefault(attachment.message_id, []).append(attachment)
    return [(m, by_message.get(m.id, [])) for m in messages]
