"""Where workers run: inside `closeloop serve` (embedded), and as `closeloop worker`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from closeloop.app import create_app
from closeloop.cli import main
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork, create_session_factory
from closeloop.jobs import enqueue
from closeloop.jobs.models import Job
from closeloop.jobs.schedule import SCHEDULE

EMBEDDED_THREAD = "closeloop-embedded-worker"
# The job each test enqueues itself, found again by its key: the periodic jobs of the schedule
# (whatever it holds) run next to it and are checked only through SCHEDULE.
OWN_KEY = "test:processes:purge"


def _settings(tmp_path: Path, url: str, **overrides: object) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough",
        **overrides,  # type: ignore[arg-type]
    )


def _enqueue_own_job(engine: Engine) -> None:
    with UnitOfWork(create_session_factory(engine)) as uow:
        enqueue(uow, "jobs.purge_finished", {}, idempotency_key=OWN_KEY)
        uow.commit()


def _own_job_status(engine: Engine) -> str | None:
    with UnitOfWork(create_session_factory(engine)) as uow:
        return uow.session.scalar(select(Job.status).where(Job.idempotency_key == OWN_KEY))


def _succeeded_ticks(engine: Engine) -> set[str]:
    """The names of the periodic jobs with a tick that ran (ticks have no key of ours)."""
    with UnitOfWork(create_session_factory(engine)) as uow:
        rows = uow.session.execute(
            select(Job.name).where(
                Job.status == "succeeded",
                Job.idempotency_key.is_not(None),
                Job.idempotency_key != OWN_KEY,
            )
        )
        return {name for (name,) in rows}


def _statuses(engine: Engine) -> list[str]:
    with UnitOfWork(create_session_factory(engine)) as uow:
        return [status for (status,) in uow.session.execute(select(Job.status))]


def _embedded_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == EMBEDDED_THREAD]


@pytest.mark.parametrize(
    ("environment", "explicit", "expected"),
    [
        pytest.param("development", None, True, id="development_default_case"),
        pytest.param("production", None, True, id="production_default_case"),
        pytest.param("test", None, False, id="test_default_case"),
        pytest.param("test", True, True, id="test_switched_on_case"),
        pytest.param("production", False, False, id="production_switched_off_case"),
    ],
)
def test_the_embedded_worker_is_on_except_in_tests(
    environment: str, explicit: bool | None, expected: bool
) -> None:
    options = {} if explicit is None else {"embedded_worker": explicit}
    assert Settings(environment=environment, **options).embedded_worker is expected  # type: ignore[arg-type]


def test_the_environment_variable_switches_it_on_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOSELOOP_ENVIRONMENT", "test")
    monkeypatch.setenv("CLOSELOOP_EMBEDDED_WORKER", "true")
    assert Settings().embedded_worker is True


def test_serve_runs_an_embedded_worker_while_the_app_lives(
    tmp_path: Path, scratch_url: str, scratch_engine: Engine
) -> None:
    _enqueue_own_job(scratch_engine)
    app = create_app(_settings(tmp_path, scratch_url, embedded_worker=True))
    periodic = {job.name for job in SCHEDULE}

    def done() -> bool:
        return _own_job_status(scratch_engine) == "succeeded" and periodic <= _succeeded_ticks(
            scratch_engine
        )

    # The job enqueued before the start, and the first tick of each periodic job.
    with TestClient(app):
        assert len(_embedded_threads()) == 1
        deadline = time.monotonic() + 15
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _embedded_threads() == []
    assert done()


def test_an_app_in_tests_starts_no_worker(tmp_path: Path, scratch_url: str) -> None:
    app = create_app(_settings(tmp_path, scratch_url))
    with TestClient(app):
        assert _embedded_threads() == []


def test_worker_once_runs_what_is_due_and_exits(
    tmp_path: Path,
    scratch_url: str,
    scratch_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _enqueue_own_job(scratch_engine)
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", scratch_url)
    monkeypatch.setenv("CLOSELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLOSELOOP_ENVIRONMENT", "test")

    result = CliRunner().invoke(main, ["worker", "--once", "--concurrency", "2"])

    assert result.exit_code == 0, result.output
    assert _own_job_status(scratch_engine) == "succeeded"
    # The current tick of every periodic job ran too, and nothing due was left behind.
    assert {job.name for job in SCHEDULE} <= _succeeded_ticks(scratch_engine)
    statuses = _statuses(scratch_engine)
    assert set(statuses) == {"succeeded"}
    assert result.output.strip().splitlines()[-1] == f"ran {len(statuses)} job(s)"
