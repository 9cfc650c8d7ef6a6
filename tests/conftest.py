"""Shared fixtures: every database test runs on SQLite and, when configured, PostgreSQL.

CLOSELOOP_TEST_DATABASE_URL names the PostgreSQL database (CI sets it); its ``public`` schema is
rebuilt by running the migrations once per session. Each test runs inside a transaction that is
rolled back, with services committing to savepoints (SQLAlchemy's documented recipe).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus

POSTGRES_URL = os.environ.get("CLOSELOOP_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("CLOSELOOP_TEST_REDIS_URL", "")
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


# Each test session migrates its own schema, so several sessions (or engineers) can share one
# PostgreSQL database without dropping each other's tables.
POSTGRES_SCHEMA = f"test_{os.getpid()}"


def _schema_url(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _create_postgres_schema() -> Engine:
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {POSTGRES_SCHEMA}")
    admin.dispose()
    return create_database_engine(_schema_url(POSTGRES_URL, POSTGRES_SCHEMA))


def _drop_postgres_schema() -> None:
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE")
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    engines["sqlite"] = create_database_engine(f"sqlite:///{sqlite_path}")
    if POSTGRES_URL:
        engines["postgresql"] = _create_postgres_schema()
    for engine in engines.values():
        migrate.upgrade(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()
    if POSTGRES_URL:
        _drop_postgres_schema()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, migrated_engines: dict[str, Engine]) -> Engine:
    return migrated_engines[backend]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def make_uow(
    session_factory: sessionmaker[Session], clock: FrozenClock, bus: EventBus
) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(session_factory, bus=bus, clock=clock)


@pytest.fixture
def uow(make_uow: Callable[[], UnitOfWork]) -> Iterator[UnitOfWork]:
    with make_uow() as unit:
        yield unit


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough",
        max_request_bytes=64 * 1024,
        max_attachment_bytes=256 * 1024,
    )


@pytest.fixture
def app(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    bus: EventBus,
) -> FastAPI:
    application = create_app(settings, clock=clock, engine=engine)
    application.state.session_factory = session_factory
    application.state.read_session_factory = session_factory
    application.state.bus = bus
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
