"""CL002: only kit/clock.py reads the wall clock, and no datetime is naive."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tools.checks.core import Finding, SourceFile, import_aliases, qualified_name

CODE = "CL002"
CLOCK_MODULE = "kit/clock.py"
WALL_CLOCK_CALLS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        # The same calls when the class name was never imported (still unmistakable).
        "datetime.now",
        "datetime.utcnow",
        "datetime.today",
        "date.today",
    }
)
DATETIME_CONSTRUCTORS = frozenset({"datetime.datetime", "datetime"})
TZINFO_POSITION = 7  # datetime(year, month, day, hour, minute, second, microsecond, tzinfo)


def is_naive_constructor(call: ast.Call) -> bool:
    if len(call.args) > TZINFO_POSITION or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    return not any(kw.arg in ("tzinfo", None) for kw in call.keywords)  # None is **kwargs


def check(source: SourceFile) -> Iterator[Finding]:
    if source.package_path is None or source.package_path == CLOCK_MODULE:
        return
    aliases = import_aliases(source.tree)
    for node in ast.walk(source.tree):
        if not isinstance(node, ast.Call):
            continue
        name = qualified_name(node.func, aliases)
        if name in WALL_CLOCK_CALLS:
            yield source.finding(
                node, CODE, f"{name}() reads the wall clock: take a Clock and call clock.now()"
            )
        elif name in DATETIME_CONSTRUCTORS and is_naive_constructor(node):
            yield source.finding(
                node, CODE, "naive datetime(...): pass tzinfo=UTC (or another zone)"
            )
