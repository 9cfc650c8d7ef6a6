"""Links between tickets: related, duplicate of, parent of (made by agents).

Follow-up and merge links are made by their own use cases and cannot be removed here. Both
tickets must be visible to the actor; a ticket they cannot read does not exist for them.
Creating a link that exists already returns it (a retried request changes nothing).
"""

from __future__ import annotations

from typing import Any

from closeloop.accounts.domain import Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import permissions, repository
from closeloop.tickets.domain import USER_LINK_KINDS, LinkKind
from closeloop.tickets.errors import (
    LinkNotAllowed,
    LinkNotFound,
    TicketActionDenied,
    TicketMerged,
    TicketNotFound,
)
from closeloop.tickets.models import Ticket, TicketLink
from closeloop.tickets.service._common import load_for_change, load_visible, record


def link_tickets(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    target_ticket_id: int,
    kind: LinkKind,
    actor: Principal,
    via: str,
) -> TicketLink:
    """Link ``ticket_id`` to ``target_ticket_id``: "ticket is <kind> target"."""
    ticket, target = _load_both(uow, ticket_id, target_ticket_id, actor)
    if not permissions.can_merge_or_link(actor):
        raise TicketActionDenied(action=_("link it"))
    if kind not in USER_LINK_KINDS:
        raise LinkNotAllowed(
            reason=_(
                "follow-up and merge links are made by their own actions; link as related, "
                "duplicate_of or parent_of."
            )
        )
    if ticket.id == target.id:
        raise LinkNotAllowed(reason=_("a ticket cannot be linked to itself."))
    ticket = load_for_change(uow, ticket.id, actor, expected_version=None, require_version=False)
    if target.merged_into_id is not None:
        raise TicketMerged(
            number=format_ticket_number(target.id),
            survivor=format_ticket_number(target.merged_into_id),
        )
    existing = _existing(uow, ticket.id, target.id, kind)
    if existing is not None:
        return existing
    _check_structure(uow, ticket, target, kind)
    link = TicketLink(
        source_ticket_id=ticket.id,
        target_ticket_id=target.id,
        kind=kind.value,
        created_by_agent_id=actor.id if actor.is_agent else None,
        created_at=uow.clock.now(),
    )
    uow.session.add(link)
    uow.session.flush()
    for side in (ticket, target):
        record(
            uow,
            side,
            action="ticket.linked",
            actor=actor,
            via=via,
            changes=[Change("link", None, _describe(link))],
        )
    return link


def unlink_tickets(
    uow: UnitOfWork, *, ticket_id: int, link_id: int, actor: Principal, via: str
) -> None:
    """Remove a link made with :func:`link_tickets` from either of its tickets."""
    ticket = load_visible(uow, ticket_id, actor)
    link = repository.link_by_id(uow.session, link_id)
    if link is None or ticket.id not in (link.source_ticket_id, link.target_ticket_id):
        raise LinkNotFound(number=format_ticket_number(ticket.id), link_id=link_id)
    other_id = (
        link.target_ticket_id if link.source_ticket_id == ticket.id else link.source_ticket_id
    )
    ticket, other = _load_both(uow, ticket.id, other_id, actor, missing_link=link_id)
    if not permissions.can_merge_or_link(actor):
        raise TicketActionDenied(action=_("remove its links"))
    if LinkKind(link.kind) not in USER_LINK_KINDS:
        raise LinkNotAllowed(reason=_("follow-up and merge links are part of the history."))
    ticket = load_for_change(uow, ticket.id, actor, expected_version=None, require_version=False)
    described = _describe(link)
    uow.session.delete(link)
    uow.session.flush()
    for side in (ticket, other):
        record(
            uow,
            side,
            action="ticket.unlinked",
            actor=actor,
            via=via,
            changes=[Change("link", described, None)],
        )


def list_links(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> list[TicketLink]:
    """The ticket's links whose other ticket the actor may read, oldest first."""
    ticket = load_visible(uow, ticket_id, actor)
    return list(repository.links_with_visible_other(uow.session, ticket.id, actor))


def _load_both(
    uow: UnitOfWork,
    ticket_id: int,
    other_id: int,
    actor: Principal,
    *,
    missing_link: int | None = None,
) -> tuple[Ticket, Ticket]:
    """Both tickets, locked in id order (two opposite requests queue instead of deadlocking)."""
    found: dict[int, Ticket] = {}
    for wanted in sorted({ticket_id, other_id}):
        ticket = repository.get_visible(uow.session, wanted, actor, for_update=True)
        if ticket is None:
            if missing_link is not None:
                raise LinkNotFound(number=format_ticket_number(ticket_id), link_id=missing_link)
            raise TicketNotFound(ticket_id=wanted)
        found[wanted] = ticket
    return found[ticket_id], found[other_id]


def _existing(uow: UnitOfWork, source_id: int, target_id: int, kind: LinkKind) -> TicketLink | None:
    existing = repository.link(uow.session, source_id, target_id, kind.value)
    if existing is None and kind is LinkKind.related:
        # "Related" has no direction: the reverse link is the same link.
        existing = repository.link(uow.session, target_id, source_id, kind.value)
    return existing


_LOOP = _("the other ticket is already above this one, so the link would make a loop.")


def _check_structure(uow: UnitOfWork, ticket: Ticket, target: Ticket, kind: LinkKind) -> None:
    if kind is LinkKind.duplicate_of and repository.link(
        uow.session, target.id, ticket.id, kind.value
    ):
        raise LinkNotAllowed(reason=_LOOP)
    if kind is not LinkKind.parent_of:
        return
    # A ticket has one parent, and no ticket is its own ancestor.
    if repository.parent_ids(uow.session, target.id):
        raise LinkNotAllowed(reason=_("the other ticket already has a parent."))
    if target.id in repository.ancestor_ids(uow.session, ticket.id):
        raise LinkNotAllowed(reason=_LOOP)


def _describe(link: TicketLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "kind": link.kind,
        "source_ticket_id": link.source_ticket_id,
        "target_ticket_id": link.target_ticket_id,
    }
