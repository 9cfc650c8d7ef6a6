"""The custom AST rules of ``tools/checks`` (DESIGN.md §2.8) find nothing in src/closeloop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN = REPO_ROOT / "tools" / "checks" / "run.py"


def test_custom_checks_find_nothing_in_the_package() -> None:
    result = subprocess.run(
        [sys.executable, str(RUN), str(REPO_ROOT / "src" / "closeloop")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"tools/checks findings:\n{result.stdout}\n{result.stderr}"
