"""The per-process caches of the SLA rulebook and the routing rules follow changes made by
another process: two engines and session factories, each with its own caches, stand for two
processes sharing one database (``closeloop.db.config_versions``)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import make_customer
from tests.conftest import POSTGRES_URL

from closeloop import wiring
from closeloop.accounts.domain import SYSTEM
from closeloop.db import config_versions, migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.kit.clock import FrozenClock
from closeloop.kit.versioned_cache import VersionedCache
from closeloop.routing import service as routing
from closeloop.routing.rules import Rule
from closeloop.routing.schemas import ActionsIn, ConditionIn, RuleCreate
from closeloop.routing.service import rules as routing_rules
from closeloop.sla import service as sla
from closeloop.sla.clock import TargetKind
from closeloop.sla.models import TicketSlaClock
from closeloop.sla.schemas import PolicyUpdate, TargetIn
from closeloop.sla.service import rulebook
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Priority
from closeloop.tickets.models import Ticket
from closeloop.tickets.schemas import TicketCreate

_numbers = itertools.count(1)


@pytest.fixture
def shared_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of this test's own, with real commits."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        admin = None
        name = ""
    else:
        name = f"closeloop_cache_{os.getpid()}_{next(_numbers)}"
        admin = create_database_engine(POSTGRES_URL)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@dataclass
class Process:
    """One server process: its own engine, session factory and caches."""

    engine: Engine
    factory: sessionmaker[Session]
    sla_cache: VersionedCache[rulebook.Rulebook]
    rules_cache: VersionedCache[tuple[Rule, ...]]


@pytest.fixture
def processes(shared_url: str) -> Iterator[tuple[Process, Process]]:
    made = []
    for _ in range(2):
        engine = create_database_engine(shared_url, pool_size=2)
        made.append(
            Process(engine, create_session_factory(engine), VersionedCache(), VersionedCache())
        )
    yield made[0], made[1]
    for process in made:
        process.engine.dispose()


RunIn = Callable[[Process], AbstractContextManager[UnitOfWork]]


@pytest.fixture
def run_in(monkeypatch: pytest.MonkeyPatch, clock: FrozenClock) -> RunIn:
    bus = wiring.build_event_bus()

    @contextmanager
    def unit_of_work(process: Process) -> Iterator[UnitOfWork]:
        with monkeypatch.context() as patched:
            patched.setattr(rulebook, "PROCESS_CACHE", process.sla_cache)
            patched.setattr(routing_rules, "PROCESS_CACHE", process.rules_cache)
            with UnitOfWork(process.factory, bus=bus, clock=clock) as uow:
                yield uow

    return unit_of_work


def _open(uow: UnitOfWork, requester_id: int, subject: str) -> int:
    ticket = tickets.open_ticket(
        uow,
        data=TicketCreate(subject=subject, requester_id=requester_id, priority=Priority.P2),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    return ticket.id


def _resolution_minutes(uow: UnitOfWork, ticket_id: int) -> int:
    row = uow.session.scalars(
        select(TicketSlaClock).where(
            TicketSlaClock.ticket_id == ticket_id,
            TicketSlaClock.kind == TargetKind.resolution.value,
        )
    ).one()
    return row.target_minutes


def test_a_policy_change_committed_in_one_process_is_used_by_the_next_ticket_in_another(
    processes: tuple[Process, Process], run_in: RunIn
) -> None:
    admin, server = processes
    with run_in(admin) as uow:
        seeded = sla.seed_default_sla(uow, actor=SYSTEM)
        customer_id = make_customer(uow).id
        uow.commit()
    with run_in(server) as uow:
        before = _open(uow, customer_id, "VPN drops")
        again = _open(uow, customer_id, "VPN drops again")
        assert _resolution_minutes(uow, before) == _resolution_minutes(uow, again) != 7
    assert server.sla_cache.loads == 1  # the second ticket used the cached rulebook

    with run_in(admin) as uow:
        sla.update_policy(
            uow,
            policy_id=seeded.policy_id,
            data=PolicyUpdate(
                targets=[TargetIn(priority=Priority.P2, kind=TargetKind.resolution, minutes=7)]
            ),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()

    with run_in(server) as uow:
        after = _open(uow, customer_id, "VPN drops once more")
        assert _resolution_minutes(uow, after) == 7
    assert server.sla_cache.loads == 2


def test_a_rule_created_in_one_process_routes_the_next_ticket_in_another(
    processes: tuple[Process, Process], run_in: RunIn
) -> None:
    admin, server = processes
    with run_in(admin) as uow:
        customer_id = make_customer(uow).id
        uow.commit()
    with run_in(server) as uow:
        before = _open(uow, customer_id, "invoice missing")
        _open(uow, customer_id, "invoice missing again")
        assert uow.session.get(Ticket, before).tags == []  # type: ignore[union-attr]
    assert server.rules_cache.loads == 1

    with run_in(admin) as uow:
        routing.create_rule(
            uow,
            data=RuleCreate(
                name="Billing",
                conditions=[ConditionIn(field="subject", operator="contains", value="invoice")],
                actions=ActionsIn(add_tags=["billing"]),
            ),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()

    with run_in(server) as uow:
        after = _open(uow, customer_id, "invoice missing once more")
        uow.session.expire_all()
        assert uow.session.get(Ticket, after).tags == ["billing"]  # type: ignore[union-attr]
    assert server.rules_cache.loads == 2


def test_a_transaction_that_changes_the_rules_reads_its_own_and_a_rollback_leaves_no_trace(
    processes: tuple[Process, Process], run_in: RunIn
) -> None:
    admin, server = processes
    with run_in(admin) as uow:
        version = config_versions.version_of(uow, config_versions.ROUTING)
        routing.create_rule(
            uow,
            data=RuleCreate(
                name="Billing",
                conditions=[ConditionIn(field="subject", operator="contains", value="invoice")],
                actions=ActionsIn(add_tags=["billing"]),
            ),
            actor=SYSTEM,
            via="test",
        )
        assert config_versions.version_of(uow, config_versions.ROUTING) is None
        assert [r.name for r in routing_rules.stored_rules(uow, active_only=True)] == ["Billing"]
        uow.rollback()
    assert admin.rules_cache.loads == 1  # read afresh, and not kept for others
    with run_in(server) as uow:
        assert config_versions.version_of(uow, config_versions.ROUTING) == version
        assert routing_rules.stored_rules(uow, active_only=True) == []
