"""Every query on the inbound pipeline's tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from closeloop.channels.models import AddressFailure, EmailReference, InboundRecord

TAKEN_OUTCOMES = ("ticket_opened", "message_added", "follow_up_opened")


def _insert_unless_present(session: Session, model: Any, values: Mapping[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``: a row already there (or being inserted by a
    concurrent transaction, which PostgreSQL waits for) makes it insert nothing, without an
    error and without a savepoint, so the caller's transaction stays usable."""
    dialect_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    return dialect_insert(model).values(**values).on_conflict_do_nothing()


def claim_inbound(session: Session, values: Mapping[str, Any]) -> InboundRecord | None:
    """Insert the guard row of a message; None when its (channel, external id) is there."""
    statement = _insert_unless_present(session, InboundRecord, values).returning(InboundRecord)
    return session.scalars(statement).first()


def inbound_by_external_id(
    session: Session, channel: str, external_id: str
) -> InboundRecord | None:
    return session.scalars(
        select(InboundRecord).where(
            InboundRecord.channel == channel, InboundRecord.external_id == external_id
        )
    ).first()


def inbound_of_message(session: Session, message_id: int) -> InboundRecord | None:
    return session.scalars(
        select(InboundRecord).where(InboundRecord.message_id == message_id).limit(1)
    ).first()


def inbound_for_update(session: Session, inbound_id: int) -> InboundRecord | None:
    return session.scalars(
        select(InboundRecord)
        .where(InboundRecord.id == inbound_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def inbound_page(
    session: Session, *, outcome: str, before_id: int | None, limit: int
) -> tuple[list[InboundRecord], bool]:
    """Newest first; one more row than asked tells whether there is a next page."""
    query = select(InboundRecord).where(InboundRecord.outcome == outcome)
    if before_id is not None:
        query = query.where(InboundRecord.id < before_id)
    rows = list(session.scalars(query.order_by(InboundRecord.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def recent_tickets_of_conversation(
    session: Session, *, sender: str, subject_key: str, since: datetime, until: datetime
) -> list[int]:
    """Tickets the same sender's messages with the same subject went to, newest first."""
    rows = session.execute(
        select(InboundRecord.ticket_id)
        .where(
            InboundRecord.sender == sender,
            InboundRecord.subject_key == subject_key,
            InboundRecord.received_at >= since,
            InboundRecord.received_at <= until,
            InboundRecord.outcome.in_(TAKEN_OUTCOMES),
            InboundRecord.ticket_id.is_not(None),
        )
        .order_by(InboundRecord.received_at.desc(), InboundRecord.id.desc())
        .limit(20)
    ).scalars()
    return [ticket_id for ticket_id in dict.fromkeys(rows) if ticket_id is not None]


def recipients_of_tickets(session: Session, ticket_ids: set[int]) -> set[str]:
    """The addresses the emails taken onto these tickets were sent to (To/Cc), lower case."""
    rows = session.scalars(
        select(InboundRecord.details).where(
            InboundRecord.ticket_id.in_(sorted(ticket_ids)),
            InboundRecord.outcome.in_(TAKEN_OUTCOMES),
        )
    )
    return {str(a) for details in rows for a in (details or {}).get("recipients", ())}


# --- email references -------------------------------------------------------------------------


def insert_reference(session: Session, values: Mapping[str, Any]) -> bool:
    """Remember a Message-ID; False when it is remembered already (the first ticket keeps it)."""
    statement = _insert_unless_present(session, EmailReference, values).returning(EmailReference.id)
    return session.execute(statement).first() is not None


def tickets_by_reference(session: Session, message_id_headers: Sequence[str]) -> dict[str, int]:
    if not message_id_headers:
        return {}
    rows = session.execute(
        select(EmailReference.message_id_header, EmailReference.ticket_id).where(
            EmailReference.message_id_header.in_(list(message_id_headers))
        )
    )
    return {str(header): int(ticket_id) for header, ticket_id in rows}


def references_of_ticket(session: Session, ticket_id: int) -> list[str]:
    return list(
        session.scalars(
            select(EmailReference.message_id_header)
            .where(EmailReference.ticket_id == ticket_id)
            .order_by(EmailReference.created_at, EmailReference.id)
        )
    )


# --- failing addresses ------------------------------------------------------------------------


def address_failure(session: Session, address: str) -> AddressFailure | None:
    return session.scalars(select(AddressFailure).where(AddressFailure.address == address)).first()


def clear_address_failure(session: Session, address: str) -> int:
    result = session.execute(
        delete(AddressFailure)
        .where(AddressFailure.address == address)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
