"""The ticket list sorts by the SLA due instant and filters by the SLA state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tests.builders import make_customer, make_ticket

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.pagination import decode_cursor
from closeloop.sla import service as sla
from closeloop.sla.schemas import SeedResult
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import PendingReason, TicketQuery, TicketStatus

from .conftest import advance


def _story(make_uow: Callable[[], UnitOfWork], clock: FrozenClock) -> dict[str, int]:
    """Five tickets: two P1 (due 02:15 and 02:20), a P3 (due in two days), a resolved and a
    pending one (no running clock: no due instant)."""
    ids: dict[str, int] = {}
    with make_uow() as uow:
        customer = make_customer(uow)
        ids["p1_early"] = make_ticket(uow, requester=customer, priority="P1").id
        ids["p3"] = make_ticket(uow, requester=customer, priority="P3").id
        resolved = make_ticket(uow, requester=customer, priority="P3")
        pending = make_ticket(uow, requester=customer, priority="P3")
        uow.commit()
        ids["resolved"], ids["pending"] = resolved.id, pending.id
        for ticket, target in ((resolved, TicketStatus.resolved), (pending, TicketStatus.pending)):
            tickets.transition(
                uow,
                ticket_id=ticket.id,
                target=target,
                pending_reason=PendingReason.customer if target is TicketStatus.pending else None,
                expected_version=ticket.version,
                actor=SYSTEM,
                via="test",
            )
        uow.commit()
    advance(clock, 5)
    with make_uow() as uow:
        ids["p1_late"] = make_ticket(uow, requester=make_customer(uow), priority="P1").id
        uow.commit()
    return ids


def _ids(uow: UnitOfWork, **query: object) -> list[int]:
    page = tickets.list_tickets(uow, query=TicketQuery(**query), actor=SYSTEM)  # type: ignore[arg-type]
    return [ticket.id for ticket in page.items]


def test_the_list_sorts_by_the_due_instant_with_tickets_without_one_last(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ids = _story(make_uow, clock)
    with make_uow() as uow:
        assert _ids(uow, sort="sla_due_at", descending=False) == [
            ids["p1_early"],
            ids["p1_late"],
            ids["p3"],
            ids["resolved"],
            ids["pending"],
        ]
        assert _ids(uow, sort="sla_due_at", descending=True) == [
            ids["p3"],
            ids["p1_late"],
            ids["p1_early"],
            ids["pending"],
            ids["resolved"],
        ]


def test_pages_of_the_due_sort_continue_across_the_tickets_without_a_due_instant(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ids = _story(make_uow, clock)
    seen: list[int] = []
    after = None
    with make_uow() as uow:
        for _ in range(3):
            page = tickets.list_tickets(
                uow,
                query=TicketQuery(sort="sla_due_at", descending=False, limit=2, after=after),
                actor=SYSTEM,
            )
            seen += [ticket.id for ticket in page.items]
            after = decode_cursor(page.next_cursor) if page.next_cursor else None
    assert after is None
    assert seen == [ids["p1_early"], ids["p1_late"], ids["p3"], ids["resolved"], ids["pending"]]


def test_the_list_filters_by_the_sla_state(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ids = _story(make_uow, clock)
    clock.set(datetime(2026, 11, 25, 2, 17, tzinfo=UTC))
    with make_uow() as uow:
        sla.scan_due(uow)
        uow.commit()
    with make_uow() as uow:
        assert _ids(uow, sla_states=["breached"]) == [ids["p1_early"]]
        assert _ids(uow, sla_states=["warning"]) == [ids["p1_late"]]
        assert _ids(uow, sla_states=["met"]) == [ids["resolved"]]
        assert _ids(uow, sla_states=["paused"]) == [ids["pending"]]
        assert _ids(
            uow, sla_states=["breached", "warning"], sort="sla_due_at", descending=False
        ) == [
            ids["p1_early"],
            ids["p1_late"],
        ]
