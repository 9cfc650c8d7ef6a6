"""Committed ticket changes are announced live (``wiring.subscribe_live``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from tests.builders import make_customer, make_ticket

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets import service as ticket_service
from closeloop.tickets.events import TicketsMerged
from closeloop.tickets.schemas import TicketUpdate
from closeloop.wiring import build_event_bus, live_messages


class Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, topic: str, data: dict[str, Any], /) -> None:
        self.published.append((topic, data))


class Failing:
    def publish(self, topic: str, data: dict[str, Any], /) -> None:
        raise ConnectionError("redis is down")


def test_ticket_changes_are_published_after_commit_only(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    recorder = Recorder()
    bus = build_event_bus(recorder)
    with UnitOfWork(session_factory, bus=bus, clock=clock) as uow:
        ticket = make_ticket(uow, requester=make_customer(uow))
        assert recorder.published == []  # nothing before the commit
        uow.commit()
        opened = [(t, d["event"]) for t, d in recorder.published]
        assert ("tickets", "ticket.opened") in opened
        assert (f"ticket:{ticket.id}", "ticket.opened") in opened

        recorder.published.clear()
        ticket_service.update_fields(
            uow,
            ticket_id=ticket.id,
            data=TicketUpdate(priority="P1"),
            expected_version=ticket.version,
            actor=SYSTEM,
            via="test",
        )
        uow.rollback()
        assert recorder.published == []


def test_the_tickets_topic_carries_ids_only() -> None:
    merged = TicketsMerged(source_ticket_id=3, survivor_ticket_id=9)
    messages = live_messages(merged)
    assert ("tickets", {"ticket_id": 3, "event": "ticket.merged", "version": None}) in messages
    assert ("tickets", {"ticket_id": 9, "event": "ticket.merged", "version": None}) in messages
    for topic, data in messages:
        if topic == "tickets":
            assert set(data) == {"ticket_id", "event", "version"}


def test_a_failing_publisher_does_not_undo_the_commit(
    session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with UnitOfWork(session_factory, bus=build_event_bus(Failing()), clock=clock) as uow:
        ticket = make_ticket(uow, requester=make_customer(uow))
        uow.commit()  # must not raise
        assert ticket_service.get_ticket(uow, ticket_id=ticket.id, actor=SYSTEM).id == ticket.id


def test_without_a_publisher_nothing_is_announced() -> None:
    recorder = Recorder()
    with_live = build_event_bus(recorder)
    without = build_event_bus()
    announcers = {h.__qualname__ for hs in with_live._handlers.values() for h in hs} - {
        h.__qualname__ for hs in without._handlers.values() for h in hs
    }
    assert announcers == {"_live_announcer.<locals>.announce"}
