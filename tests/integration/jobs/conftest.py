"""Fixtures of the job queue tests: scratch databases for tests that need real connections.

Most tests run inside the rolled-back transaction of ``tests/conftest.py``. Tests that need
several real connections (concurrent workers, an embedded worker thread, the CLI) get a scratch
database of their own with the migrations applied: a SQLite file under ``tmp_path``, or a
PostgreSQL database created next to CLOSELOOP_TEST_DATABASE_URL's and dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from tests.conftest import POSTGRES_URL

from closeloop.db import migrate
from closeloop.db.session import create_database_engine

_numbers = itertools.count(1)


def _postgres_scratch(name: str) -> tuple[str, Callable[[], None]]:
    admin = create_database_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    return url, drop


@pytest.fixture
def scratch_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database that this test alone uses."""
    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'jobs.sqlite3'}", None
    else:
        url, drop = _postgres_scratch(f"closeloop_jobs_{os.getpid()}_{next(_numbers)}")
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if drop is not None:
        drop()


@pytest.fixture
def scratch_engine(scratch_url: str) -> Iterator[Engine]:
    engine = create_database_engine(scratch_url, pool_size=8)
    yield engine
    engine.dispose()
