"""Two workers taking the same message at the same moment (two mailboxes polled in parallel, a
webhook retried while the first call still runs): exactly one ticket, the other a duplicate.

Each worker has its own connection to a scratch database, so the race is real: on PostgreSQL
the second insert of the guard row waits on the unique index and fails when the first commits;
on SQLite the writers queue on the database lock.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from tests.builders import make_company
from tests.conftest import POSTGRES_URL, START

from closeloop.accounts.domain import IdentityKind
from closeloop.accounts.models import Company
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, IngestOutcome, IngestResult, SenderIdentity
from closeloop.channels.models import InboundRecord
from closeloop.channels.service import IngestSettings
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.domain import Channel
from closeloop.tickets.models import Message, Ticket

WORKERS = 4
_numbers = itertools.count(1)


@pytest.fixture
def scratch_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        url, admin, name = f"sqlite:///{tmp_path / 'race.sqlite3'}", None, ""
    else:
        name = f"closeloop_channels_{os.getpid()}_{next(_numbers)}"
        admin = create_database_engine(POSTGRES_URL)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url, pool_size=WORKERS + 1)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_racing_copies_of_one_message_make_exactly_one_ticket(
    scratch_engine: Engine, tmp_path: Path
) -> None:
    settings = IngestSettings(
        attachments_dir=tmp_path / "attachments",
        raw_dir=tmp_path / "inbound",
        max_attachment_bytes=1024,
        blocked_extensions=(),
    )
    message = InboundMessage(
        channel=Channel.email,
        external_id="race@mail.example.org",
        sender=SenderIdentity(IdentityKind.email, "li.lei@example.org"),
        subject="同一封邮件",
        body_text="两个进程同时收到",
        received_at=START,
        raw=b"Message-ID: <race@mail.example.org>\r\n\r\nbody",
    )
    factory = create_session_factory(scratch_engine)
    barrier = threading.Barrier(WORKERS)
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with UnitOfWork(factory, clock=FrozenClock(START)) as uow:
                barrier.wait(timeout=10)
                result = channel_service.ingest(uow, message, via="test", settings=settings)
                if result.outcome is IngestOutcome.duplicate:
                    # The loser's transaction is still usable: it goes on and commits.
                    make_company(uow, name=f"after the duplicate {threading.get_ident()}")
                uow.commit()
                results.append(result)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    outcomes = sorted(result.outcome for result in results)
    assert outcomes == [IngestOutcome.duplicate] * (WORKERS - 1) + [IngestOutcome.ticket_opened]
    with UnitOfWork(factory) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Message)) == 1
        assert uow.session.scalar(select(func.count()).select_from(InboundRecord)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Company)) == WORKERS - 1


@pytest.mark.parametrize(
    "winner_commits", [True, False], ids=["winner_commits", "winner_rolls_back"]
)
def test_the_second_copy_waits_for_the_first_and_follows_its_fate(
    scratch_engine: Engine, tmp_path: Path, winner_commits: bool
) -> None:
    """The second copy arrives while the first one's transaction is open: it waits, then is a
    duplicate (and may go on writing), or takes the message when the first rolled back."""
    settings = IngestSettings(
        attachments_dir=tmp_path / "attachments",
        raw_dir=tmp_path / "inbound",
        max_attachment_bytes=1024,
        blocked_extensions=(),
    )
    message = InboundMessage(
        channel=Channel.email,
        external_id="slow@mail.example.org",
        sender=SenderIdentity(IdentityKind.email, "li.lei@example.org"),
        subject="慢一点",
        body_text="第一个事务还没提交",
        received_at=START,
    )
    factory = create_session_factory(scratch_engine)
    started, outcome = threading.Event(), []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with UnitOfWork(factory, clock=FrozenClock(START)) as uow:
                started.set()
                result = channel_service.ingest(uow, message, via="test", settings=settings)
                make_company(uow, name="written after")
                uow.commit()
                outcome.append(result.outcome)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    with UnitOfWork(factory, clock=FrozenClock(START)) as first:
        assert channel_service.ingest(first, message, via="test", settings=settings).outcome is (
            IngestOutcome.ticket_opened
        )
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(timeout=10)
        thread.join(timeout=1)
        assert thread.is_alive(), "the second copy must wait for the first transaction"
        if winner_commits:
            first.commit()
        else:
            first.rollback()
    thread.join(timeout=30)

    assert errors == []
    expected = IngestOutcome.duplicate if winner_commits else IngestOutcome.ticket_opened
    assert outcome == [expected]
    with UnitOfWork(factory) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert uow.session.scalar(select(func.count()).select_from(InboundRecord)) == 1
        assert uow.session.scalars(select(Company.name)).all() == ["written after"]
