from __future__ import annotations

from tools.checks.core import run_check
from tools.checks.rules import no_commit

COMMITS = """
    def close(uow):
        uow.session.add(thing)
        uow.commit()
"""


def test_commit_in_a_feature_is_reported() -> None:
    findings = run_check(no_commit.check, COMMITS, "src/closeloop/tickets/service.py")
    assert [(f.line, f.code) for f in findings] == [(4, "CL001")]


def test_flush_in_a_feature_is_fine() -> None:
    source = "def close(uow):\n    uow.session.flush()\n"
    assert run_check(no_commit.check, source, "src/closeloop/tickets/service.py") == []


def test_the_composition_root_may_not_commit() -> None:
    assert run_check(no_commit.check, COMMITS, "src/closeloop/wiring.py") != []


def test_delivery_layers_and_the_unit_of_work_may_commit() -> None:
    for path in (
        "src/closeloop/db/session.py",
        "src/closeloop/jobs/runner.py",
        "src/closeloop/cli.py",
        "src/closeloop/api/v1/tickets.py",
        "/abs/checkout/src/closeloop/web/agent/tickets.py",
    ):
        assert run_check(no_commit.check, COMMITS, path) == [], path


def test_files_outside_the_package_are_not_checked() -> None:
    assert run_check(no_commit.check, COMMITS, "tests/integration/conftest.py") == []


def test_a_jobs_module_other_than_the_runner_may_not_commit() -> None:
    assert run_check(no_commit.check, COMMITS, "src/closeloop/jobs/queue.py") != []
