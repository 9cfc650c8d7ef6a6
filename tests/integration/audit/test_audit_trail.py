"""The audit trail is written with each change, cannot be altered, and verifies."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.builders import make_customer, make_ticket

from closeloop.accounts.domain import SYSTEM
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketStatus


def test_each_change_appends_chained_rows_that_verify(uow: UnitOfWork) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow), subject="Refund")
    tickets.transition(
        uow,
        ticket_id=ticket.id,
        target=TicketStatus.resolved,
        pending_reason=None,
        expected_version=1,
        actor=SYSTEM,
        via="test",
    )
    events = audit.timeline(uow, entity_type="ticket", entity_id=ticket.id)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert all(e.previous_hash == p.hash for p, e in itertools.pairwise(events))
    assert events[-1].field == "status"
    assert (events[-1].old_value, events[-1].new_value) == ("new", "resolved")
    assert audit.verify(uow, entity_type="ticket") == {}


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE audit_events SET new_value = '\"forged\"'", id="update_case"),
        pytest.param("DELETE FROM audit_events", id="delete_case"),
    ],
)
def test_the_database_refuses_to_change_audit_rows(uow: UnitOfWork, statement: str) -> None:
    make_ticket(uow, requester=make_customer(uow))
    uow.session.flush()
    with pytest.raises(DBAPIError, match="append-only"), uow.session.begin_nested():
        uow.session.execute(text(statement))


def test_a_rolled_back_change_leaves_no_audit_row(uow: UnitOfWork) -> None:
    customer = make_customer(uow)
    uow.commit()
    before = len(audit.timeline(uow, entity_type="customer", entity_id=customer.id))
    make_ticket(uow, requester=customer)
    uow.rollback()
    assert audit.verify(uow) == {}
    assert len(audit.timeline(uow, entity_type="customer", entity_id=customer.id)) == before
