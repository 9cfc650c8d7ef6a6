"""Every query on the ticket tables, scoped to what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
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


def get_for_update(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, locked (PostgreSQL) and read afresh even if the session holds it already."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update(of=Ticket)
        .execution_options(populate_existing=True)
    ).first()


def set_sla_summary(
    session: Session, ticket_id: int, *, due_at: datetime | None, state: str | None
) -> None:
    """A Core UPDATE: the ticket's version and ``updated_at`` stay as they are."""
    session.execute(
        update(Ticket.__table__)  # type: ignore[arg-type]
        .where(Ticket.__table__.c.id == ticket_id)
        .values(sla_due_at=due_at, sla_state=state)
    )


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
    if sort == "sla_due_at":
        values["sla_due_at"] = ticket.sla_due_at.isoformat() if ticket.sla_due_at else None
    if sort == "priority":
        values["priority"] = ticket.priority
    return values


def _after_due(query: TicketQuery) -> ColumnElement[bool]:
    """Keyset position for the SLA due sort, where tickets without a due instant come last
    in both directions (so the comparison cannot be one row-value comparison)."""
    assert query.after is not None
    try:
        raw_due, raw_id = query.after["sla_due_at"], query.after["id"]
        due = None if raw_due is None else datetime.fromisoformat(raw_due)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidCursor("sla_due_at") from error
    if not isinstance(raw_id, int) or (due is not None and due.tzinfo is None):
        raise InvalidCursor("sla_due_at")
    after_id = bindparam(None, raw_id, type_=Ticket.id.type)
    if due is None:
        beyond = Ticket.id < after_id if query.descending else Ticket.id > after_id
        return and_(Ticket.sla_due_at.is_(None), beyond)
    at = bindparam(None, due, type_=Ticket.sla_due_at.type)
    if query.descending:
        later, tie = Ticket.sla_due_at < at, Ticket.id < after_id
    else:
        later, tie = Ticket.sla_due_at > at, Ticket.id > after_id
    return or_(later, and_(Ticket.sla_due_at == at, tie), Ticket.sla_due_at.is_(None))


def _after(query: TicketQuery) -> ColumnElement[bool] | None:
    if not query.after:
        return None
    if query.sort == "sla_due_at":
        return _after_due(query)
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
        (Ticket.sla_state, query.sla_states),
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
    if query.resolved_from is not None:
        conditions.append(Ticket.resolved_at >= query.resolved_from)
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


def _fts_driven_query(principal: Principal, query: TicketQuery) -> Select[Ticket] | None:
    """SQLite: let FTS5 walk its matches in rowid (= ticket id) order and stop at the page end.

    The general shape collects every match and sorts them all, which costs in proportion to how
    common the word is (0.9 s for a common word on 1M tickets). Ticket ids grow with creation
    time, so for the creation-order sorts the id order is the same order; cursors page by id.
    """
    terms = query_terms(query.text)
    if not terms or parse_ticket_number(query.text) is not None:
        return None
    if query.sort not in ("created_at", "id"):
        return None
    conditions: list[ColumnElement[bool] | TextClause] = [
        text("ticket_search MATCH :match").bindparams(match=fts5_match_expression(terms)),
        visible_to(principal),
        *_filters(replace(query, text=""), "sqlite"),
    ]
    rowid = ticket_search.c.rowid
    if query.after:
        after_id = query.after.get("id")
        if not isinstance(after_id, int):
            raise InvalidCursor("id")
        conditions.append(rowid < after_id if query.descending else rowid > after_id)
    return (
        select(Ticket)
        .join(ticket_search, rowid == Ticket.id)
        .where(and_(*conditions))
        .order_by(rowid.desc() if query.descending else rowid.asc())
        .limit(query.limit + 1)
    )


def _visible_for(principal: Principal, query: TicketQuery) -> ColumnElement[bool]:
    """``visible_to``, left out when the filters already keep to tickets the agent may read
    (their own, or teams they belong to): the planner then walks the assignee or team index
    instead of testing the visibility OR on every row of a status."""
    if principal.is_agent and not principal.sees_all_tickets:
        own = query.assignee_ids and not query.unassigned
        if own and set(query.assignee_ids) <= {principal.id}:
            return true()
        if query.team_ids and set(query.team_ids) <= principal.team_ids:
            return true()
    return visible_to(principal)


def list_query(principal: Principal, query: TicketQuery, dialect: str) -> Select[Ticket]:
    if dialect == "sqlite":
        driven = _fts_driven_query(principal, query)
        if driven is not None:
            return driven
    conditions = [_visible_for(principal, query), *_filters(query, dialect)]
    after = _after(query)
    if after is not None:
        conditions.append(after)
    columns = _sort_columns(query.sort)
    order = [c.desc() for c in columns] if query.descending else [c.asc() for c in columns]
    if query.sort == "sla_due_at":
        # Tickets without a running SLA clock come last, whichever the direction.
        order[0] = order[0].nulls_last()
    return select(Ticket).where(and_(*conditions)).order_by(*order).limit(query.limit + 1)


def list_visible(
    session: Session, principal: Principal, query: TicketQuery
) -> tuple[list[Ticket], bool]:
    """One page of tickets and whether another page follows (one statement)."""
    rows = list(session.scalars(list_query(principal, query, dialect_of(session))))
    return rows[: query.limit], len(rows) > query.limit


def count_visible(
    session: Session, principal: Principal, queries: Sequence[TicketQuery], *, cap: int
) -> list[int]:
    """How many tickets each query matches, counting at most ``cap + 1`` of each: one statement
    of scalar subqueries, each stopping after ``cap + 1`` rows, so a count never walks a
    million tickets (a result above ``cap`` means "more than cap")."""
    if not queries:
        return []
    dialect = dialect_of(session)
    counts = []
    for index, query in enumerate(queries):
        conditions = [_visible_for(principal, query), *_filters(query, dialect)]
        matching = select(Ticket.id).where(and_(*conditions)).limit(cap + 1).subquery()
        counts.append(
            select(func.count()).select_from(matching).scalar_subquery().label(f"c{index}")
        )
    row = session.execute(select(*counts)).one()
    return [int(value) for value in row]


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


# --- queues: pull mode and agents' load (read by routing through tickets.service) --------

# Unassigned tickets in these statuses wait for somebody to take them.
PULLABLE_STATUSES = ("new", "open")
# Assigned tickets in these statuses are an agent's open work.
LOAD_STATUSES = ("new", "open", "in_progress", "pending")


def pull_candidates(
    session: Session,
    *,
    team_ids: Sequence[int],
    include_teamless: bool,
    offset: int,
    limit: int,
) -> list[Ticket]:
    """Unassigned tickets of these teams, most urgent first: the earliest SLA due instant
    (tickets without one last), then priority, then age."""
    team_condition: ColumnElement[bool] = (
        Ticket.team_id.in_(sorted(team_ids)) if team_ids else false()
    )
    if include_teamless:
        team_condition = or_(team_condition, Ticket.team_id.is_(None))
    query = (
        select(Ticket)
        .where(
            team_condition,
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(PULLABLE_STATUSES),
            Ticket.merged_into_id.is_(None),
        )
        .order_by(
            Ticket.sla_due_at.asc().nulls_last(),
            Ticket.priority.asc(),
            Ticket.created_at.asc(),
            Ticket.id.asc(),
        )
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def lock_if_unassigned(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, locked, if it is still unassigned and nobody else holds its lock.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so two agents pulling at once never wait for each
    other and never get the same ticket; the row is read afresh after the lock. SQLite: the
    writer already holds the database's write lock, so the read is current."""
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(PULLABLE_STATUSES),
            Ticket.merged_into_id.is_(None),
        )
        .with_for_update(of=Ticket, skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()


def open_work_by_assignee(session: Session, agent_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per agent: how many open tickets they hold, by priority."""
    found: dict[int, dict[str, int]] = {agent_id: {} for agent_id in agent_ids}
    if agent_ids:
        rows = session.execute(
            select(Ticket.assignee_id, Ticket.priority, func.count())
            .where(Ticket.assignee_id.in_(sorted(agent_ids)), Ticket.status.in_(LOAD_STATUSES))
            .group_by(Ticket.assignee_id, Ticket.priority)
        )
        for agent_id, priority, count in rows:
            if agent_id is not None:
                found[agent_id][priority] = int(count)
    return found


# --- customers merged (tickets.handlers) ----------------------------------------------------


def tickets_requested_by(session: Session, customer_id: int) -> Sequence[Ticket]:
    """Every ticket the customer requested, locked (PostgreSQL), oldest first."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.requester_id == customer_id)
        .order_by(Ticket.id)
        .with_for_update(of=Ticket)
        .execution_options(populate_existing=True)
    ).all()


def customer_follows(session: Session, customer_id: int) -> Sequence[TicketFollower]:
    return session.scalars(
        select(TicketFollower)
        .where(TicketFollower.customer_id == customer_id)
        .order_by(TicketFollower.ticket_id)
    ).all()
