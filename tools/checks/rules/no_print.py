"""CL003: no print() in the package; log with structlog, or write through click in cli.py."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tools.checks.core import Finding, SourceFile

CODE = "CL003"
ALLOWED_FILES = frozenset({"cli.py"})


def check(source: SourceFile) -> Iterator[Finding]:
    if source.package_path is None or source.package_path in ALLOWED_FILES:
        return
    for node in ast.walk(source.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        ):
            yield source.finding(node, CODE, "print() in the package: use the structlog logger")
