"""What every rule shares: a parsed source file, a finding, and import-aware name resolution."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

PACKAGE_ROOT = ("src", "closeloop")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


@dataclass(frozen=True)
class SourceFile:
    """A parsed module.

    ``path`` is what findings print; ``package_path`` is the path inside ``src/closeloop``
    (``"tickets/service.py"``), or ``None`` for a file outside the package.
    """

    path: str
    tree: ast.Module
    package_path: str | None

    @classmethod
    def parse(cls, text: str, path: str, *, location: str | None = None) -> SourceFile:
        """Parse ``text``; ``location`` (default ``path``) decides which package rules apply."""
        tree = ast.parse(textwrap.dedent(text), filename=path)
        return cls(path=path, tree=tree, package_path=package_path(location or path))

    def finding(self, node: ast.stmt | ast.expr, code: str, message: str) -> Finding:
        return Finding(self.path, node.lineno, code, message)


Check = Callable[[SourceFile], Iterator[Finding]]


def package_path(path: str) -> str | None:
    """``.../src/closeloop/tickets/service.py`` → ``tickets/service.py``; ``None`` outside."""
    parts = PurePath(path).parts
    for start in range(len(parts) - len(PACKAGE_ROOT), -1, -1):
        if parts[start : start + len(PACKAGE_ROOT)] == PACKAGE_ROOT:
            inside = parts[start + len(PACKAGE_ROOT) :]
            return "/".join(inside) if inside else None
    return None


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → the dotted name it was imported as, for every import in the module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.partition(".")[0]
                    aliases[head] = head
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")
    return aliases


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``dt.now`` with ``from datetime import datetime as dt`` → ``datetime.datetime.now``.

    A name that was not imported stands for itself; anything else (a call, a subscript) is None.
    """
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = qualified_name(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def run_check(
    check: Check, text: str, path: str = "src/closeloop/feature/service.py"
) -> list[Finding]:
    """Run one rule over a source string (for the rule tests)."""
    return sorted(check(SourceFile.parse(text, path)))
