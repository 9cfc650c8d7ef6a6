"""Reading tickets: one, a page of a filtered list, a timeline."""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.pagination import Page, encode_cursor
from closeloop.tickets import permissions, repository
from closeloop.tickets.domain import TicketQuery
from closeloop.tickets.models import Ticket
from closeloop.tickets.service._common import ENTITY, load_visible


def get_ticket(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> Ticket:
    return load_visible(uow, ticket_id, actor)


def list_tickets(uow: UnitOfWork, *, query: TicketQuery, actor: Principal) -> Page[Ticket]:
    tickets, more = repository.list_visible(uow.session, actor, query)
    next_cursor = encode_cursor(repository.cursor_of(tickets[-1], query.sort)) if more else None
    return Page(items=tickets, next_cursor=next_cursor)


def count_tickets(
    uow: UnitOfWork, *, queries: Sequence[TicketQuery], actor: Principal, cap: int
) -> list[int]:
    """How many tickets ``actor`` may see match each query, in one statement; a count above
    ``cap`` stops there (show it as "cap+")."""
    return repository.count_visible(uow.session, actor, queries, cap=cap)


def timeline(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> list[audit.AuditRecord]:
    """Every recorded change of the ticket; customers see only the public ones."""
    ticket = load_visible(uow, ticket_id, actor)
    return audit.timeline(
        uow,
        entity_type=ENTITY,
        entity_id=ticket.id,
        public_only=not permissions.can_see_internal(actor),
    )


def settled(uow: UnitOfWork, ticket: Ticket) -> Ticket:
    """The ticket as it will be committed: after the in-transaction reactions to its events
    (routing, SLA clocks) ran, some of which write with plain UPDATEs the ORM does not see."""
    uow.handle_pending()
    uow.session.refresh(ticket)
    return ticket
