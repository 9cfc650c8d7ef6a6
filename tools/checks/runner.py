"""Find Python files, run every rule on them, print ``path:line: CODE message``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tools.checks.core import Check, Finding, SourceFile
from tools.checks.rules import ALL_CHECKS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATHS = (REPO_ROOT / "src" / "closeloop",)
PARSE_ERROR = "CL000"


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.rglob("*.py")):
                relative = candidate.relative_to(path).parts
                if not any(part == "__pycache__" or part.startswith(".") for part in relative):
                    yield candidate
        else:
            yield path


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_file(path: Path, checks: Sequence[Check] = ALL_CHECKS) -> list[Finding]:
    shown = display(path)
    try:
        source = SourceFile.parse(
            path.read_text(encoding="utf-8"), shown, location=str(path.resolve())
        )
    except (SyntaxError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None) or 1
        return [Finding(shown, line, PARSE_ERROR, f"cannot parse: {error}")]
    return sorted(finding for check in checks for finding in check(source))


def check_paths(paths: Iterable[Path], checks: Sequence[Check] = ALL_CHECKS) -> list[Finding]:
    return [finding for path in python_files(paths) for finding in check_file(path, checks)]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    paths = [Path(argument) for argument in arguments] or list(DEFAULT_PATHS)
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        print(f"no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    findings = check_paths(paths)
    for finding in findings:
        print(finding)
    return 1 if findings else 0
