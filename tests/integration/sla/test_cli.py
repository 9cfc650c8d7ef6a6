"""`closeloop sla seed-defaults` and `closeloop sla recompute` on a database of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from closeloop.cli import main
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.jobs.models import Job
from closeloop.sla.models import BusinessCalendar, SlaPolicy


def test_seed_defaults_creates_the_desk_once_and_recompute_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", url)
    monkeypatch.setenv("CLOSELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLOSELOOP_ENVIRONMENT", "test")
    runner = CliRunner()

    first = runner.invoke(main, ["sla", "seed-defaults"])
    again = runner.invoke(main, ["sla", "seed-defaults"])
    recomputed = runner.invoke(main, ["sla", "recompute", "--all"])

    assert first.exit_code == 0, first.output
    assert first.output.strip() == "calendar 1: created; policy 1: created"
    assert again.output.strip() == "calendar 1: exists already; policy 1: exists already"
    assert recomputed.exit_code == 0, recomputed.output
    assert recomputed.output.strip() == "recomputed the tickets in 1 batch(es)"
    with UnitOfWork(create_session_factory(engine)) as uow:
        assert uow.session.scalar(select(func.count()).select_from(BusinessCalendar)) == 1
        assert uow.session.scalar(select(func.count()).select_from(SlaPolicy)) == 1
        # The existing tickets (none here) are measured in the background, once.
        jobs = list(uow.session.scalars(select(Job.name).where(Job.name.like("sla.%"))))
        assert jobs == ["sla.recompute"]
    engine.dispose()
