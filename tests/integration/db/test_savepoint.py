"""``UnitOfWork.savepoint``: a block that fails leaves nothing behind, in the database or in the
unit of work (events, their handling, after-commit callbacks, session caches)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from tests.builders import make_company

from closeloop.accounts.models import Company
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus


@dataclass(frozen=True)
class Happened:
    name: str


@dataclass(frozen=True)
class Reacted:
    name: str


class Refused(Exception):
    pass


def fail_in_savepoint(uow: UnitOfWork, block: Callable[[], object]) -> None:
    with uow.savepoint():
        block()
        raise Refused()


def company_names(make_uow: Callable[[], UnitOfWork]) -> list[str]:
    with make_uow() as uow:
        return sorted(uow.session.scalars(select(Company.name)))


def test_events_and_callbacks_of_a_failed_savepoint_are_dropped(
    make_uow: Callable[[], UnitOfWork], bus: EventBus
) -> None:
    in_transaction: list[str] = []
    after_commit: list[str] = []
    callbacks: list[str] = []
    bus.subscribe_in_transaction(Happened, lambda _uow, event: in_transaction.append(event.name))
    bus.subscribe(Happened, lambda event: after_commit.append(event.name))
    with make_uow() as uow:
        make_company(uow, name="kept")
        uow.publish(Happened("before"))

        def inside() -> None:
            make_company(uow, name="rolled back")
            uow.publish(Happened("inside"))
            uow.after_commit(lambda: callbacks.append("inside"))

        with pytest.raises(Refused):
            fail_in_savepoint(uow, inside)
        with uow.savepoint():
            uow.publish(Happened("after"))
            uow.after_commit(lambda: callbacks.append("after"))
        uow.commit()

    assert in_transaction == ["before", "after"]
    assert after_commit == ["before", "after"]
    assert callbacks == ["after"]
    assert company_names(make_uow) == ["kept"]


def test_handling_done_inside_a_failed_savepoint_runs_again_at_commit(
    make_uow: Callable[[], UnitOfWork], bus: EventBus
) -> None:
    """An earlier event handled inside the savepoint (``handle_pending``) lost what its handler
    wrote with the rollback; it is handled again, and what its handler published is dropped."""
    reacted: list[str] = []

    def write(uow: UnitOfWork, event: Happened) -> None:
        make_company(uow, name=f"made for {event.name}")
        uow.publish(Reacted(event.name))

    bus.subscribe_in_transaction(Happened, write)
    bus.subscribe(Reacted, lambda event: reacted.append(event.name))
    with make_uow() as uow:
        uow.publish(Happened("early"))
        with pytest.raises(Refused):
            fail_in_savepoint(uow, uow.handle_pending)
        uow.commit()

    assert company_names(make_uow) == ["made for early"]
    assert reacted == ["early"]


def test_session_caches_are_restored_after_a_failed_savepoint(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    with make_uow() as uow:
        uow.session.info["heads"] = {"a": 1}
        uow.session.info["done"] = {1}

        def inside() -> None:
            uow.session.info["heads"]["a"] = 2
            uow.session.info["done"].add(2)
            uow.session.info["new"] = "x"

        with pytest.raises(Refused):
            fail_in_savepoint(uow, inside)
        assert uow.session.info == {"heads": {"a": 1}, "done": {1}}
        with uow.savepoint():
            uow.session.info["done"].add(3)
        assert uow.session.info["done"] == {1, 3}


def test_a_failed_ping_pong_notification_leaves_nothing_to_react_to(
    make_uow: Callable[[], UnitOfWork], bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wiring``'s notification helpers write in ``uow.savepoint()``: a notification that fails
    halfway is logged, and what it published before failing reaches nobody."""
    from closeloop import wiring
    from closeloop.routing.events import TicketPingPonged

    def failing_notify(uow: UnitOfWork, **_kwargs: object) -> None:
        uow.publish(Happened("half-written notification"))
        raise RuntimeError("the notification could not be written")

    monkeypatch.setattr(wiring, "notify", failing_notify)
    seen: list[str] = []
    bus.subscribe(Happened, lambda event: seen.append(event.name))
    event = TicketPingPonged(
        ticket_id=1, transfers=4, team_id=None, lead_ids=(1,), suggested_team_id=None, moved=False
    )
    with make_uow() as uow:
        wiring._tell_about_ping_pong(uow, event)
        uow.commit()

    assert seen == []
