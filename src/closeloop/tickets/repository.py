"""Every query on the ticket tables, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from closeloop.accounts.domain import Principal
from closeloop.kit.ids import parse_ticket_number
from closeloop.kit.pagination import InvalidCursor
from closeloop.kit.search_tokens import fts5_match_expression, query_terms, tsquery_expression
from closeloop.tickets.domain import SortKey, TicketQuery
from closeloop.tickets.models import (
    Attachment,
    CustomFieldDefinition,
    Message,
    Ticket,
    TicketFollower,
    TicketLink,
    TicketTag,
)

# Maintained by hand per dialect (see the initial migration):
# FTS5 on SQLite, tsvector on PostgreSQL.
ticket_search = table("ticket_search", column("rowid"), column("ticket_id"), column("document"))


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The condition that selects exactly the tickets ``principal`` may read."""
    if principal.sees_all_tickets:
        return true()
    if principal.is_agent:
        conditions: list[ColumnElement[bool]] = [
            Ticket.assignee_id == principal.id,
            exists().where(
                TicketFollower.ticket_id == Ticket.id, TicketFollower.agent_id == principal.id
            ),
        ]
        if principal.team_ids:
            conditions.insert(0, Ticket.team_id.in_(sorted(principal.team_ids)))
        return or_(*conditions)
    if principal.is_customer:
        conditions = [
            Ticket.requester_id == principal.id,
            exists().where(
                TicketFollower.ticket_id == Ticket.id,
                TicketFollower.customer_id == principal.id,
            ),
        ]
        if principal.is_company_admin and principal.company_id is not None:
            conditions.append(Ticket.company_id == principal.company_id)
        return or_(*conditions)
    return false()


def get_visible(
    session: Session, ticket_id: int, principal: Principal, *, for_update: bool = False
) -> Ticket | None:
    """The ticket if ``principal`` may read it. ``for_update`` locks the row on PostgreSQL, so
    concurrent writers to one ticket queue up instead of failing on the version check."""
    query = select(Ticket).where(Ticket.id == ticket_id, visible_to(principal))
    if for_update:
        query = query.with_for_update(of=Ticket)
    return session.scalars(query).first()


def get(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


def _sort_columns(sort: SortKey) -> tuple[Any, ...]:
    if sort == "id":
        return (Ticket.id,)
    if sort == "priority":
        return (Ticket.priority, Ticket.created_at, Ticket.id)
    return (getattr(Ticket, sort), Ticket.id)


def cursor_of(ticket: Ticket, sort: SortKey) -> dict[str, Any]:
    values: dict[str, Any] = {"id": ticket.id}
    if sort in ("created_at", "priority"):
        values["created_at"] = ticket.created_at.isoformat()
    if sort == "updated_at":
        values["updated_at"] = ticket.updated_at.isoformat()
    if sort == "priority":
        values["priority"] = ticket.priority
    return values


def _after(query: TicketQuery) -> ColumnElement[bool] | None:
    if not query.after:
        return None
    columns = _sort_columns(query.sort)
    values: list[Any] = []
    for col in columns:
        try:
            raw = query.after[col.key]
            if col.key in ("created_at", "updated_at"):
                raw = datetime.fromisoformat(raw)
                if raw.tzinfo is None:
                    raise InvalidCursor(col.key)
            elif col.key == "id" and not isinstance(raw, int):
                raise InvalidCursor(col.key)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidCursor(col.key) from error
        values.append(bindparam(None, raw, type_=col.type))
    left = tuple_(*columns) if len(columns) > 1 else columns[0]
    right = tuple_(*values) if len(values) > 1 else values[0]
    return left < right if query.descending else left > right


def _filters(query: TicketQuery, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    pairs: list[tuple[Any, Sequence[Any]]] = [
        (Ticket.status, query.statuses),
        (Ticket.priority, query.priorities),
        (Ticket.type, query.types),
        (Ticket.channel, query.channels),
        (Ticket.team_id, query.team_ids),
        (Ticket.requester_id, query.requester_ids),
        (Ticket.company_id, query.company_ids),
    ]
    for col, values in pairs:
        if len(values) == 1:
            conditions.append(col == values[0])
        elif values:
            conditions.append(col.in_(list(values)))
    if query.unassigned and query.assignee_ids:
        conditions.append(
            or_(Ticket.assignee_id.is_(None), Ticket.assignee_id.in_(list(query.assignee_ids)))
        )
    elif query.unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    elif query.assignee_ids:
        conditions.append(Ticket.assignee_id.in_(list(query.assignee_ids)))
    for tag in query.tags:
        conditions.append(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == tag)))
    if query.created_from is not None:
        conditions.append(Ticket.created_at >= query.created_from)
    if query.created_to is not None:
        conditions.append(Ticket.created_at < query.created_to)
    if query.updated_from is not None:
        conditions.append(Ticket.updated_at >= query.updated_from)
    if query.updated_to is not None:
        conditions.append(Ticket.updated_at < query.updated_to)
    if query.text.strip():
        conditions.append(_text_condition(query.text, dialect))
    return conditions


def _text_condition(search: str, dialect: str) -> ColumnElement[bool]:
    terms = query_terms(search)
    number = parse_ticket_number(search)
    matches: list[ColumnElement[bool]] = []
    if number is not None:
        matches.append(Ticket.id == number)
    if terms:
        if dialect == "sqlite":
            hits = select(ticket_search.c.rowid).where(
                text("ticket_search MATCH :match").bindparams(match=fts5_match_expression(terms))
            )
        else:
            hits = select(ticket_search.c.ticket_id).where(
                ticket_search.c.document.op("@@")(
                    func.to_tsquery("simple", tsquery_expression(terms))
                )
            )
        matches.append(Ticket.id.in_(hits))
    return or_(*matches) if matches else false()


def list_query(principal: Principal, query: TicketQuery, dialect: str) -> Select[Ticket]:
    conditions = [visible_to(principal), *_filters(query, dialect)]
    after = _after(query)
    if after is not None:
        conditions.append(after)
    columns = _sort_columns(query.sort)
    order = [c.desc() for c in columns] if query.descending else [c.asc() for c in columns]
    return select(Ticket).where(and_(*conditions)).order_by(*order).limit(query.limit + 1)


def list_visible(
    session: Session, principal: Principal, query: TicketQuery
) -> tuple[list[Ticket], bool]:
    """One page of tickets and whether another page follows (one statement)."""
    rows = list(session.scalars(list_query(principal, query, dialect_of(session))))
    return rows[: query.limit], len(rows) > query.limit


# --- search index -------------------------------------------------------------------------


def index_document(session: Session, ticket_id: int, document: str, *, new: bool) -> None:
    dialect = dialect_of(session)
    if dialect == "sqlite":
        if not new:
            session.execute(text("DELETE FROM ticket_search WHERE rowid = :id"), {"id": ticket_id})
        session.execute(
            text("INSERT INTO ticket_search (rowid, document) VALUES (:id, :document)"),
            {"id": ticket_id, "document": document},
        )
        return
    session.execute(
        text(
            "INSERT INTO ticket_search (ticket_id, document) "
            "VALUES (:id, to_tsvector('simple', :document)) "
            "ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document"
        ),
        {"id": ticket_id, "document": document},
    )


def append_to_document(session: Session, ticket_id: int, document: str) -> None:
    if not document:
        return
    if dialect_of(session) == "sqlite":
        session.execute(
            text(
                "UPDATE ticket_search SET document = document || ' ' || :document WHERE rowid = :id"
            ),
            {"id": ticket_id, "document": document},
        )
        return
    session.execute(
        text(
            "UPDATE ticket_search SET document = document || to_tsvector('simple', :document) "
            "WHERE ticket_id = :id"
        ),
        {"id": ticket_id, "document": document},
    )


def remove_document(session: Session, ticket_id: int) -> None:
    key = "rowid" if dialect_of(session) == "sqlite" else "ticket_id"
    session.execute(text(f"DELETE FROM ticket_search WHERE {key} = :id"), {"id": ticket_id})  # noqa: S608


# --- tags ---------------------------------------------------------------------------------


def replace_tags(session: Session, ticket_id: int, tags: Sequence[str], *, new: bool) -> None:
    if not new:
        session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket_id))
    if tags:
        session.execute(insert(TicketTag), [{"ticket_id": ticket_id, "tag": t} for t in tags])


# --- messages, attachments, links, followers ----------------------------------------------


def messages_of(session: Session, ticket_id: int, *, include_internal: bool) -> Sequence[Message]:
    query = select(Message).where(Message.ticket_id == ticket_id)
    if not include_internal:
        query = query.where(Message.kind != "internal_note")
    return session.scalars(query.order_by(Message.created_at, Message.id)).all()


def attachments_of(session: Session, ticket_id: int) -> Sequence[Attachment]:
    return session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
    ).all()


def attachments_by_id(session: Session, ticket_id: int, ids: Sequence[int]) -> Sequence[Attachment]:
    if not ids:
        return []
    return session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket_id, Attachment.id.in_(list(ids)))
    ).all()


def move_messages(session: Session, source_id: int, target_id: int) -> int:
    result = session.execute(
        update(Message)
        .where(Message.ticket_id == source_id)
        .values(
            ticket_id=target_id,
            original_ticket_id=func.coalesce(Message.original_ticket_id, source_id),
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Attachment)
        .where(Attachment.ticket_id == source_id)
        .values(ticket_id=target_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def links_of(session: Session, ticket_id: int) -> Sequence[TicketLink]:
    return session.scalars(
        select(TicketLink)
        .where(
            or_(TicketLink.source_ticket_id == ticket_id, TicketLink.target_ticket_id == ticket_id)
        )
        .order_by(TicketLink.id)
    ).all()


def link(session: Session, source_id: int, target_id: int, kind: str) -> TicketLink | None:
    return session.scalars(
        select(TicketLink).where(
            TicketLink.source_ticket_id == source_id,
            TicketLink.target_ticket_id == target_id,
            TicketLink.kind == kind,
        )
    ).first()


def followers_of(session: Session, ticket_id: int) -> Sequence[TicketFollower]:
    return session.scalars(
        select(TicketFollower)
        .where(TicketFollower.ticket_id == ticket_id)
        .order_by(TicketFollower.id)
    ).all()


def custom_field_definitions(
    session: Session, ticket_type: str | None, *, active_only: bool = True
) -> Sequence[CustomFieldDefinition]:
    """Definitions that apply to tickets of ``ticket_type`` (their own and the shared ones)."""
    query = select(CustomFieldDefinition).where(
        or_(
            CustomFieldDefinition.ticket_type.is_(None),
            CustomFieldDefinition.ticket_type == ticket_type,
        )
    )
    if active_only:
        query = query.where(CustomFieldDefinition.is_active.is_(True))
    return session.scalars(
        query.order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
    ).all()


# --- relations: one attachment, links between tickets, followers --------------------------


def attachment_by_id(session: Session, attachment_id: int) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def message_kind(session: Session, message_id: int) -> str | None:
    return session.scalars(select(Message.kind).where(Message.id == message_id)).first()


def link_by_id(session: Session, link_id: int) -> TicketLink | None:
    return session.get(TicketLink, link_id)


def links_with_visible_other(
    session: Session, ticket_id: int, principal: Principal
) -> Sequence[TicketLink]:
    """Links of the ticket whose other end ``principal`` may read (one statement)."""
    other_end = or_(
        and_(TicketLink.source_ticket_id == ticket_id, Ticket.id == TicketLink.target_ticket_id),
        and_(TicketLink.target_ticket_id == ticket_id, Ticket.id == TicketLink.source_ticket_id),
    )
    return session.scalars(
        select(TicketLink)
        .join(Ticket, other_end)
        .where(visible_to(principal))
        .order_by(TicketLink.id)
    ).all()


def parent_ids(session: Session, ticket_id: int) -> Sequence[int]:
    return session.scalars(
        select(TicketLink.source_ticket_id)
        .where(TicketLink.target_ticket_id == ticket_id, TicketLink.kind == "parent_of")
        .order_by(TicketLink.id)
    ).all()


def ancestor_ids(session: Session, ticket_id: int) -> set[int]:
    """Parents, their parents and so on (a recursive walk; UNION stops on any loop)."""
    ancestors = (
        select(TicketLink.source_ticket_id.label("id"))
        .where(TicketLink.target_ticket_id == ticket_id, TicketLink.kind == "parent_of")
        .cte("ancestors", recursive=True)
    )
    ancestors = ancestors.union(
        select(TicketLink.source_ticket_id).join(
            ancestors,
            and_(TicketLink.target_ticket_id == ancestors.c.id, TicketLink.kind == "parent_of"),
        )
    )
    return set(session.scalars(select(ancestors.c.id)))


def follower_by_id(session: Session, follower_id: int) -> TicketFollower | None:
    return session.get(TicketFollower, follower_id)


def follower_of(
    session: Session, ticket_id: int, *, agent_id: int | None = None, customer_id: int | None = None
) -> TicketFollower | None:
    """The follower row of this agent or customer on the ticket, if any."""
    query = select(TicketFollower).where(TicketFollower.ticket_id == ticket_id)
    if agent_id is not None:
        query = query.where(TicketFollower.agent_id == agent_id)
    else:
        query = query.where(TicketFollower.customer_id == customer_id)
    return session.scalars(query).first()
