from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.checks import runner

RUN = Path(__file__).with_name("run.py")


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_findings_are_printed_one_per_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "src/closeloop/tickets/service.py",
        "def f(uow):\n    print(1)\n    uow.commit()\n",
    )
    write(tmp_path, "src/closeloop/tickets/__pycache__/stale.py", "print(1)\n")
    assert runner.main(["src"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "src/closeloop/tickets/service.py:2: CL003 print() in the package: "
        "use the structlog logger",
        "src/closeloop/tickets/service.py:3: CL001 .commit() in a feature: only the delivery layer "
        "commits the unit of work (api/, web/, cli.py, jobs/runner.py)",
    ]


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    write(tmp_path, "src/closeloop/tickets/service.py", "def f(uow):\n    uow.session.flush()\n")
    assert runner.main([str(tmp_path)]) == 0


def test_unparsable_file_is_a_finding(tmp_path: Path) -> None:
    path = write(tmp_path, "src/closeloop/broken.py", "def f(:\n")
    assert [f.code for f in runner.check_paths([path])] == ["CL000"]


def test_missing_path_exits_2(tmp_path: Path) -> None:
    assert runner.main([str(tmp_path / "nowhere")]) == 2


def test_the_script_runs_from_any_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "src/closeloop/kit/ids.py", "import time\nstamp = time.time()\n")
    result = subprocess.run(  # noqa: S603 (our own script, run by this interpreter)
        [sys.executable, str(RUN), str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("src/closeloop/kit/ids.py:2: CL002 time.time()")
