"""Events reach in-transaction handlers before the commit and the others only after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.builders import make_company

from closeloop.accounts.models import Company
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus


@dataclass(frozen=True)
class Happened:
    name: str


@dataclass(frozen=True)
class FollowedOn:
    name: str


def test_in_transaction_handlers_write_with_the_change_and_after_commit_see_it(
    make_uow: Callable[[], UnitOfWork], bus: EventBus
) -> None:
    seen_after_commit: list[str] = []

    def write_company(uow: UnitOfWork, event: Happened) -> None:
        make_company(uow, name=f"made by {event.name}")
        uow.publish(FollowedOn(event.name))

    bus.subscribe_in_transaction(Happened, write_company)
    bus.subscribe(FollowedOn, lambda event: seen_after_commit.append(event.name))
    with make_uow() as uow:
        uow.publish(Happened("first"))
        assert seen_after_commit == []
        uow.commit()
    assert seen_after_commit == ["first"]
    with make_uow() as uow:
        names = [c.name for c in uow.session.query(Company).all()]
    assert names == ["made by first"]


def test_rolled_back_work_runs_no_handler(
    make_uow: Callable[[], UnitOfWork], bus: EventBus
) -> None:
    calls: list[str] = []
    bus.subscribe_in_transaction(Happened, lambda _uow, event: calls.append(event.name))
    bus.subscribe(Happened, lambda event: calls.append(event.name))
    with make_uow() as uow:
        uow.publish(Happened("lost"))
        uow.rollback()
        uow.commit()
    assert calls == []
