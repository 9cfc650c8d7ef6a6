"""CL001: features never commit; the unit of work belongs to the request, task or command."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tools.checks.core import Finding, SourceFile

CODE = "CL001"
# Delivery layers and the unit of work itself (paths inside src/closeloop).
ALLOWED_FILES = frozenset({"db/session.py", "jobs/runner.py", "cli.py"})
ALLOWED_PACKAGES = ("api/", "web/")


def is_allowed(package_path: str) -> bool:
    return package_path in ALLOWED_FILES or package_path.startswith(ALLOWED_PACKAGES)


def check(source: SourceFile) -> Iterator[Finding]:
    if source.package_path is None or is_allowed(source.package_path):
        return
    for node in ast.walk(source.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"
        ):
            yield source.finding(
                node,
                CODE,
                ".commit() in a feature: only the delivery layer commits the unit of work "
                "(api/, web/, cli.py, jobs/runner.py)",
            )
