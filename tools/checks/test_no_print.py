from __future__ import annotations

from tools.checks.core import run_check
from tools.checks.rules import no_print

SOURCE = """
    def report(total):
        print("total", total)
"""


def test_print_in_the_package_is_reported() -> None:
    findings = run_check(no_print.check, SOURCE, "src/closeloop/reporting/service.py")
    assert [(f.line, f.code) for f in findings] == [(3, "CL003")]


def test_logging_is_fine() -> None:
    source = "def report(log, total):\n    log.info('total', total=total)\n"
    assert run_check(no_print.check, source, "src/closeloop/reporting/service.py") == []


def test_the_cli_and_files_outside_the_package_may_print() -> None:
    assert run_check(no_print.check, SOURCE, "src/closeloop/cli.py") == []
    assert run_check(no_print.check, SOURCE, "bench/ticket_list.py") == []
