"""The scan warns, breaches and escalates: each ladder step fires exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.builders import make_agent, make_customer, make_team, make_ticket
from tests.conftest import POSTGRES_URL

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.audit import service as audit
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.jobs.domain import Backoff
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.notifications.models import Notification
from closeloop.sla import repository as sla_repository
from closeloop.sla import service as sla
from closeloop.sla.models import EscalationFiring
from closeloop.sla.schemas import EscalationStepIn, PolicyCreate, SeedResult, TargetIn
from closeloop.sla.service import escalation as escalation_service
from closeloop.tickets import service as tickets
from closeloop.wiring import build_event_bus, build_job_registry

from .conftest import Staff, advance, clocks_of, firings_of, sla_timeline

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _open_assigned(make_uow: Callable[[], UnitOfWork], staff: Staff, priority: str = "P1") -> int:
    with make_uow() as uow:
        ticket = make_ticket(
            uow,
            requester=staff.customer,
            priority=priority,
            team_id=staff.team.id,
            assignee_id=staff.assignee.id,
        )
        uow.commit()
        return ticket.id


def _scan(make_uow: Callable[[], UnitOfWork]) -> sla.ScanResult:
    with make_uow() as uow:
        result = sla.scan_due(uow)
        uow.commit()
        return result


def _told(uow: UnitOfWork, ticket_id: int) -> list[tuple[int, str]]:
    """(agent, event) of the in-app notifications about the ticket, in order."""
    uow.session.expire_all()
    rows = uow.session.scalars(
        select(Notification).where(Notification.ticket_id == ticket_id).order_by(Notification.id)
    )
    return [(n.recipient_agent_id, n.event) for n in rows]


def test_the_scan_fires_the_75_percent_breach_and_30_minutes_after_steps_once_each(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult, staff: Staff
) -> None:
    ticket_id = _open_assigned(make_uow, staff)
    lead, assignee, manager = staff.lead.id, staff.assignee.id, staff.manager.id

    advance(clock, 11)  # 73 % of the 15-minute first response: nothing is due yet
    assert _scan(make_uow).fired == 0
    advance(clock, 0.25)  # 75 %
    assert _scan(make_uow).fired == 1
    assert _scan(make_uow).fired == 0
    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == [
            ("first_response", 0, "notify_assignee", "done"),
        ]
        first = clocks_of(uow, ticket_id)["first_response"]
        assert first.state == "warning"
        assert first.next_check_at == datetime(2026, 11, 25, 2, 15, tzinfo=UTC)
        assert _told(uow, ticket_id) == [(assignee, "sla.warning")]

    clock.set(datetime(2026, 11, 25, 2, 15, tzinfo=UTC))  # the breach
    assert _scan(make_uow).fired == 1
    assert _scan(make_uow).fired == 0
    advance(clock, 29)
    assert _scan(make_uow).fired == 0
    advance(clock, 1)  # 30 minutes after the breach: the manager, and the priority
    assert _scan(make_uow).fired == 1  # only the manager is told (P1 cannot go higher)
    assert _scan(make_uow).fired == 0

    with make_uow() as uow:
        assert firings_of(uow, ticket_id) == [
            ("first_response", 0, "notify_assignee", "done"),
            ("first_response", 1, "notify_team_lead", "done"),
            ("first_response", 2, "notify_manager", "done"),
            ("first_response", 3, "raise_priority", "skipped"),
        ]
        assert _told(uow, ticket_id) == [
            (assignee, "sla.warning"),
            (lead, "sla.breached"),
            (manager, "sla.escalated"),
        ]
        first = clocks_of(uow, ticket_id)["first_response"]
        assert (first.state, first.next_check_at) == ("breached", None)
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert (ticket.priority, ticket.sla_state) == ("P1", "breached")
        assert sla_timeline(uow, ticket_id) == [
            ("sla.escalated", "first_response"),
            ("sla.breached", "first_response"),
            ("sla.escalated", "first_response"),
            ("sla.escalated", "first_response"),
            ("sla.escalated", "first_response"),
        ]
        breach = next(
            row
            for row in tickets.timeline(uow, ticket_id=ticket_id, actor=SYSTEM)
            if row.action == "sla.breached"
        )
        assert breach.new_value is not None
        assert breach.new_value["due_at"] == "2026-11-25T02:15:00+00:00"
        assert (breach.actor_type, breach.via, breach.is_public) == ("system", "sla:scan", False)


def _policy_for_p2(
    make_uow: Callable[[], UnitOfWork], *, step: EscalationStepIn, team_id: int
) -> None:
    with make_uow() as uow:
        sla.create_policy(
            uow,
            data=PolicyCreate(
                name="Escalating",
                position=0,
                conditions={"team_ids": [team_id]},
                targets=[
                    TargetIn(priority="P2", kind="first_response", minutes=10),
                    TargetIn(priority="P1", kind="first_response", minutes=5),
                ],
                escalations=[step],
            ),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()


def test_a_raise_priority_step_raises_one_step_and_retargets(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult, staff: Staff
) -> None:
    step = EscalationStepIn(kind="first_response", after_breach_minutes=0, action="raise_priority")
    _policy_for_p2(make_uow, step=step, team_id=staff.team.id)
    ticket_id = _open_assigned(make_uow, staff, priority="P2")
    advance(clock, 10)
    assert _scan(make_uow).fired == 0  # nobody to tell: the step only raises the priority
    assert _scan(make_uow).fired == 0

    with make_uow() as uow:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert ticket.priority == "P1"
        assert firings_of(uow, ticket_id) == [("first_response", 0, "raise_priority", "done")]
        first = clocks_of(uow, ticket_id)["first_response"]
        assert (first.target_minutes, first.due_at) == (5, T0 + timedelta(minutes=5))
        raised = [
            row
            for row in tickets.timeline(uow, ticket_id=ticket_id, actor=SYSTEM)
            if row.action == "ticket.updated"
        ]
        assert [(r.field, r.old_value, r.new_value, r.via, r.actor_type) for r in raised] == [
            ("priority", "P2", "P1", "sla:escalation", "system")
        ]


def test_a_reassign_step_hands_the_ticket_to_the_expert_team(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult, staff: Staff
) -> None:
    with make_uow() as uow:
        experts = make_team(uow, name="Experts")
        uow.commit()
    step = EscalationStepIn(
        kind="first_response",
        after_breach_minutes=5,
        action="reassign_team",
        team_id=experts.id,
    )
    _policy_for_p2(make_uow, step=step, team_id=staff.team.id)
    ticket_id = _open_assigned(make_uow, staff, priority="P2")
    advance(clock, 15)
    _scan(make_uow)

    with make_uow() as uow:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert (ticket.team_id, ticket.assignee_id) == (experts.id, None)
        assert firings_of(uow, ticket_id) == [("first_response", 0, "reassign_team", "done")]
        # The experts' team matches no team condition: the default policy measures it now.
        assert clocks_of(uow, ticket_id)["resolution"].policy_id == desk.policy_id


def test_steps_due_more_than_a_day_ago_are_recorded_as_expired_and_tell_nobody(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult, staff: Staff
) -> None:
    ticket_id = _open_assigned(make_uow, staff)
    advance(clock, 3 * 24 * 60)  # the workers were down for three days
    _scan(make_uow)

    with make_uow() as uow:
        outcomes = {(kind, step): outcome for kind, step, _a, outcome in firings_of(uow, ticket_id)}
        assert set(outcomes.values()) == {"expired"}
        assert len(outcomes) == 8  # four steps for each of the two targets
        assert _told(uow, ticket_id) == []


def test_the_worker_runs_the_periodic_scan(
    session_factory: Callable[[], Session],
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    staff: Staff,
) -> None:
    ticket_id = _open_assigned(make_uow, staff)
    clock.set(datetime(2026, 11, 25, 2, 15, 30, tzinfo=UTC))
    worker = Worker(
        session_factory,
        build_job_registry(),
        clock=clock,
        worker_id="sla-test",
        poll_interval=0.01,
        bus=build_event_bus(),
        backoff=Backoff(jitter=0),
    )
    worker.run_until_idle()

    with make_uow() as uow:
        assert [step for _k, step, _a, _o in firings_of(uow, ticket_id)] == [0, 1]


# --- two scans racing, each on its own connections ------------------------------------------


@pytest.fixture
def scratch_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database of this test's own (committed data, real row locks)."""
    drop: Callable[[], None] | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'sla.sqlite3'}"
    else:
        from sqlalchemy.engine import make_url

        name = f"closeloop_sla_race_{threading.get_native_id()}"
        admin = create_database_engine(POSTGRES_URL)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")

        def drop_database() -> None:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()

        drop = drop_database
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url, pool_size=4)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if drop is not None:
        drop()


def test_two_scans_racing_on_separate_connections_fire_each_step_once(
    scratch_engine: Engine,
) -> None:
    factory = create_session_factory(scratch_engine)
    clock = FrozenClock(T0)
    bus = build_event_bus()
    with UnitOfWork(factory, bus=bus, clock=clock) as uow:
        sla.seed_default_sla(uow, actor=SYSTEM)
        lead = make_agent(uow, password=None)
        team = make_team(uow, lead=lead)
        assignee = make_agent(uow, password=None, teams=[team])
        make_agent(uow, role=Role.supervisor, password=None)
        customer = make_customer(uow)
        ids = [
            make_ticket(
                uow, requester=customer, priority="P1", team_id=team.id, assignee_id=assignee.id
            ).id
            for _ in range(5)
        ]
        uow.commit()
    clock.set(T0 + timedelta(minutes=45))  # every first-response step is due at once
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            with UnitOfWork(factory, bus=bus, clock=clock) as uow:
                barrier.wait(timeout=10)
                sla.scan_due(uow)
                uow.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []

    with UnitOfWork(factory, bus=bus, clock=clock) as uow:
        counted = uow.session.execute(
            select(EscalationFiring.ticket_id, func.count())
            .group_by(EscalationFiring.ticket_id)
            .order_by(EscalationFiring.ticket_id)
        ).all()
        assert [tuple(row) for row in counted] == [(ticket_id, 4) for ticket_id in ids]
        told = uow.session.execute(
            select(Notification.event, func.count())
            .group_by(Notification.event)
            .order_by(Notification.event)
        ).all()
        assert [tuple(row) for row in told] == [
            ("sla.breached", 5),
            ("sla.escalated", 5),
            ("sla.warning", 5),
        ]
        for ticket_id in ids:
            breaches = [
                row
                for row in audit.timeline(uow, entity_type="ticket", entity_id=ticket_id)
                if row.action == "sla.breached"
            ]
            assert len(breaches) == 1
        assert audit.verify(uow, entity_type="ticket") == {}


def test_a_ticket_that_fails_is_rolled_back_alone_and_checked_again_later(
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    staff: Staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step = EscalationStepIn(kind="first_response", after_breach_minutes=0, action="raise_priority")
    _policy_for_p2(make_uow, step=step, team_id=staff.team.id)
    broken = _open_assigned(make_uow, staff, priority="P2")
    fine = _open_assigned(make_uow, staff, priority="P2")
    original = escalation_service._raise_priority

    def raise_or_fail(uow: UnitOfWork, ticket_id: int, priority: str) -> None:
        if ticket_id == broken:
            raise RuntimeError("the database is on fire")
        original(uow, ticket_id, priority)

    monkeypatch.setattr(escalation_service, "_raise_priority", raise_or_fail)
    advance(clock, 10)
    result = _scan(make_uow)
    assert (result.checked, result.failed) == (1, [broken])

    with make_uow() as uow:
        assert firings_of(uow, broken) == []
        assert firings_of(uow, fine) == [("first_response", 0, "raise_priority", "done")]
        assert clocks_of(uow, broken)["first_response"].next_check_at == clock.now() + timedelta(
            minutes=5
        )
        assert sla_timeline(uow, broken) == []  # its breach row was rolled back with it
        assert audit.verify(uow, entity_type="ticket") == {}
    monkeypatch.setattr(escalation_service, "_raise_priority", original)
    advance(clock, 4)
    assert _scan(make_uow).checked == 0
    advance(clock, 1)
    assert _scan(make_uow).checked == 1
    with make_uow() as uow:
        assert firings_of(uow, broken) == [("first_response", 0, "raise_priority", "done")]
        assert tickets.get_ticket(uow, ticket_id=broken, actor=SYSTEM).priority == "P1"


def test_the_firing_row_is_the_guard_against_a_second_firing(
    make_uow: Callable[[], UnitOfWork], desk: SeedResult, staff: Staff
) -> None:
    ticket_id = _open_assigned(make_uow, staff)
    values = {
        "ticket_id": ticket_id,
        "kind": "first_response",
        "cycle": 1,
        "step_position": 0,
        "policy_id": desk.policy_id,
        "action": "notify_assignee",
        "outcome": "done",
        "fired_at": T0,
    }
    with make_uow() as uow:
        assert sla_repository.insert_firing(uow.session, values) is True
        assert sla_repository.insert_firing(uow.session, values) is False
        assert sla_repository.insert_firing(uow.session, {**values, "cycle": 2}) is True
