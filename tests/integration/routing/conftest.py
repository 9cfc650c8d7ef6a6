"""Fixtures of the routing tests: the routing reactions subscribed, teams ready to receive work,
and scratch databases for the tests that need several real connections (pull-mode races)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from tests.builders import make_agent, make_team
from tests.conftest import POSTGRES_URL

from closeloop import wiring
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.models import Agent, Team
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine
from closeloop.kit.events import EventBus
from closeloop.routing import service as routing
from closeloop.routing.domain import AgentStatus, Strategy
from closeloop.routing.schemas import AvailabilityUpdate, TeamRoutingUpdate

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def routed_bus(bus: EventBus) -> EventBus:
    """The test bus with routing's reactions, as ``wiring.build_event_bus`` subscribes them."""
    wiring.subscribe_routing(bus)
    return bus


def go_online(uow: UnitOfWork, agent: Agent, **limits: int) -> None:
    routing.update_availability(
        uow,
        agent_id=agent.id,
        changes=AvailabilityUpdate(status=AgentStatus.online, **limits),
        actor=SYSTEM,
        via="test",
    )


def use_strategy(uow: UnitOfWork, team: Team, strategy: Strategy, *, triage: bool = False) -> None:
    routing.set_team_routing(
        uow,
        team_id=team.id,
        changes=TeamRoutingUpdate(strategy=strategy, is_triage_team=triage),
        actor=SYSTEM,
        via="test",
    )


def staffed_team(
    uow: UnitOfWork,
    strategy: Strategy,
    *,
    agents: int = 2,
    name: str | None = None,
    lead: bool = False,
) -> tuple[Team, list[Agent]]:
    """A team whose members are online, with a lead among them when asked."""
    team = make_team(uow, name=name)
    members = [make_agent(uow, teams=[team], password=None) for _ in range(agents)]
    if lead:
        team.lead_id = members[0].id
    for member in members:
        go_online(uow, member)
    use_strategy(uow, team, strategy)
    uow.session.flush()
    return team, members


def lead_of(uow: UnitOfWork, team: Team) -> Agent:
    lead = make_agent(uow, role=Role.agent, teams=[team], password=None)
    team.lead_id = lead.id
    uow.session.flush()
    return lead


def _postgres_scratch(name: str) -> tuple[str, Engine]:
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture
def scratch_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of this test's own, for committed data and real row locks."""
    admin: Engine | None = None
    name = f"closeloop_routing_{os.getpid()}_{next(_numbers)}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'routing.sqlite3'}"
    else:
        url, admin = _postgres_scratch(name)
    engine = create_database_engine(url, pool_size=8)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
