"""The migrations build the schema, round-trip, and match the models (`alembic check`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from tests.conftest import POSTGRES_URL

from closeloop.db import migrate
from closeloop.db.session import create_database_engine

SCRATCH_DATABASE = "closeloop_migrations"


def _scratch_postgres() -> Engine:
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {SCRATCH_DATABASE}")
    admin.dispose()
    url = make_url(POSTGRES_URL).set(database=SCRATCH_DATABASE)
    return create_database_engine(url.render_as_string(hide_password=False))


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = (
        create_database_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        if request.param == "sqlite"
        else _scratch_postgres()
    )
    yield engine
    engine.dispose()


def test_upgrade_builds_every_table_and_matches_the_models(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {"tickets", "messages", "audit_events", "agents", "customers", "ticket_search"} <= tables
    migrate.check(empty_engine)


def test_downgrade_to_base_and_upgrade_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    migrate.check(empty_engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()
