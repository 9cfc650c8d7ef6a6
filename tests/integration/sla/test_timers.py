"""Exact timers: each clock's next check is a job due at that instant (``sla.check_ticket``).

The desk of ``conftest.py``: a P1 ticket opened at 02:00 UTC (10:00 in Shanghai, inside the
7x12 hours) warns at 75 % of its 15-minute first response, 02:11:15, and its resolution at 75 %
of 120 minutes, 03:30.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import make_ticket, principal_of

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import Backoff
from closeloop.jobs.models import Job
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.notifications.models import Notification
from closeloop.sla import service as sla
from closeloop.sla.schemas import SeedResult
from closeloop.tickets import service as tickets
from closeloop.tickets.schemas import MessageCreate, TicketUpdate
from closeloop.wiring import build_event_bus, build_job_registry

from .conftest import Staff, clocks_of, firings_of

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
FIRST_RESPONSE_WARNING = datetime(2026, 11, 25, 2, 11, 15, tzinfo=UTC)
RESOLUTION_WARNING = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


def _open_p1(make_uow: Callable[[], UnitOfWork], staff: Staff) -> int:
    with make_uow() as uow:
        ticket = make_ticket(
            uow,
            requester=staff.customer,
            priority="P1",
            team_id=staff.team.id,
            assignee_id=staff.assignee.id,
        )
        uow.commit()
        return ticket.id


def _timers(uow: UnitOfWork, ticket_id: int) -> list[tuple[datetime, str, str | None]]:
    """(run_at, status, key) of the ticket's ``sla.check_ticket`` jobs, in run order."""
    uow.session.expire_all()
    jobs = uow.session.scalars(
        select(Job).where(Job.name == "sla.check_ticket").order_by(Job.run_at, Job.id)
    )
    return [
        (job.run_at, job.status, job.idempotency_key)
        for job in jobs
        if job.payload == {"ticket_id": ticket_id}
    ]


def _key(ticket_id: int, at: datetime) -> str:
    return f"sla.check:{ticket_id}:{at.isoformat()}"


def _timer_worker(session_factory: Callable[[], Session], clock: FrozenClock) -> Worker:
    """A worker without the periodic scan: only the timers can fire anything."""
    return Worker(
        session_factory,
        build_job_registry(),
        (),
        clock,
        "sla-timers",
        poll_interval=0.01,
        bus=build_event_bus(),
        backoff=Backoff(jitter=0),
    )


def _told(uow: UnitOfWork, ticket_id: int) -> list[str]:
    uow.session.expire_all()
    rows = uow.session.scalars(
        select(Notification.event)
        .where(Notification.ticket_id == ticket_id)
        .order_by(Notification.id)
    )
    return list(rows)


def test_opening_a_ticket_enqueues_a_timer_at_each_next_check_instant(
    make_uow: Callable[[], UnitOfWork], desk: SeedResult, staff: Staff
) -> None:
    ticket_id = _open_p1(make_uow, staff)

    with make_uow() as uow:
        clocks = clocks_of(uow, ticket_id)
        assert clocks["first_response"].next_check_at == FIRST_RESPONSE_WARNING
        assert clocks["resolution"].next_check_at == RESOLUTION_WARNING
        assert _timers(uow, ticket_id) == [
            (FIRST_RESPONSE_WARNING, "queued", _key(ticket_id, FIRST_RESPONSE_WARNING)),
            (RESOLUTION_WARNING, "queued", _key(ticket_id, RESOLUTION_WARNING)),
        ]


def test_recomputing_without_moving_the_instant_adds_no_timer(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult, staff: Staff
) -> None:
    ticket_id = _open_p1(make_uow, staff)
    clock.advance(timedelta(minutes=2))
    with make_uow() as uow:
        current = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        tickets.update_fields(
            uow,
            ticket_id=ticket_id,
            data=TicketUpdate(tags=["vpn"]),
            expected_version=current.version,
            actor=SYSTEM,
            via="test",
        )
        uow.commit()

    with make_uow() as uow:
        assert [key for _at, _status, key in _timers(uow, ticket_id)] == [
            _key(ticket_id, FIRST_RESPONSE_WARNING),
            _key(ticket_id, RESOLUTION_WARNING),
        ]


def test_the_timer_fires_the_warning_at_its_instant_without_the_scan(
    session_factory: Callable[[], Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    staff: Staff,
) -> None:
    ticket_id = _open_p1(make_uow, staff)
    worker = _timer_worker(session_factory, clock)

    clock.set(FIRST_RESPONSE_WARNING - timedelta(seconds=1))
    worker.run_until_idle()
    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == []

    clock.set(FIRST_RESPONSE_WARNING)
    worker.run_until_idle()
    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == [("first_response", 0, "notify_assignee", "done")]
        assert _told(uow, ticket_id) == ["sla.warning"]
        breach = clocks_of(uow, ticket_id)["first_response"].due_at
        # The fired step moved the next check to the breach: a timer waits there now.
        assert _timers(uow, ticket_id) == [
            (FIRST_RESPONSE_WARNING, "succeeded", _key(ticket_id, FIRST_RESPONSE_WARNING)),
            (breach, "queued", _key(ticket_id, breach)),
            (RESOLUTION_WARNING, "queued", _key(ticket_id, RESOLUTION_WARNING)),
        ]


def test_a_stale_timer_finds_nothing_due_and_tells_nobody(
    session_factory: Callable[[], Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    staff: Staff,
) -> None:
    ticket_id = _open_p1(make_uow, staff)
    clock.advance(timedelta(minutes=5))
    with make_uow() as uow:  # the reply meets the first response before its warning
        tickets.add_message(
            uow,
            ticket_id=ticket_id,
            data=MessageCreate(body="正在处理"),
            actor=principal_of(uow, staff.assignee),
            via="test",
        )
        uow.commit()
    with make_uow() as uow:
        assert clocks_of(uow, ticket_id)["first_response"].next_check_at is None

    clock.set(FIRST_RESPONSE_WARNING)
    _timer_worker(session_factory, clock).run_until_idle()

    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == []
        assert _told(uow, ticket_id) == []
        assert _timers(uow, ticket_id)[0] == (
            FIRST_RESPONSE_WARNING,
            "succeeded",
            _key(ticket_id, FIRST_RESPONSE_WARNING),
        )
        assert clocks_of(uow, ticket_id)["first_response"].state == "met"


def test_a_timer_and_the_scan_on_the_same_instant_fire_the_step_once(
    session_factory: Callable[[], Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    staff: Staff,
) -> None:
    ticket_id = _open_p1(make_uow, staff)
    clock.set(FIRST_RESPONSE_WARNING)
    with make_uow() as uow:
        assert sla.scan_due(uow).fired == 1
        uow.commit()
    _timer_worker(session_factory, clock).run_until_idle()

    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == [("first_response", 0, "notify_assignee", "done")]
        assert _told(uow, ticket_id) == ["sla.warning"]
