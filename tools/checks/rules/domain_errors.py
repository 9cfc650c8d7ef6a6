"""CL004: every DomainError subclass has a dotted ``code`` and translatable title/message.

A class counts as a DomainError subclass when one of its bases is named like an error
(``...Error``, ``...NotFound``, ``...PermissionDenied``, ``...Conflict``,
``...ValidationFailed``) and either the class lives in an ``errors.py`` module, or that base was
imported from an ``errors`` module, or the base is a DomainError subclass of the same module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tools.checks.core import Finding, SourceFile, import_aliases, qualified_name

CODE = "CL004"
ERROR_BASE = re.compile(r"(Error|NotFound|PermissionDenied|Conflict|ValidationFailed)$")
DOTTED_CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
BASE_CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
BASE_CLASSES_MODULE = "kit/errors.py"
TRANSLATED_ATTRIBUTES = ("message", "title")


def is_domain_error(
    cls: ast.ClassDef, aliases: dict[str, str], in_errors_module: bool, local: set[str]
) -> bool:
    for base in cls.bases:
        name = qualified_name(base, aliases)
        if name is None:
            continue
        *module, last = name.split(".")
        if last in local and not module:
            return True
        if ERROR_BASE.search(last) and (in_errors_module or module[-1:] == ["errors"]):
            return True
    return False


def class_attributes(cls: ast.ClassDef) -> Iterator[tuple[str, ast.expr, ast.stmt]]:
    for statement in cls.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    yield target.id, statement.value, statement
        elif (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.value is not None
        ):
            yield statement.target.id, statement.value, statement


def is_translated_literal(value: ast.expr) -> bool:
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "_"
        and len(value.args) == 1
        and not value.keywords
        and isinstance(value.args[0], ast.Constant)
        and isinstance(value.args[0].value, str)
    )


def check_class(source: SourceFile, cls: ast.ClassDef) -> Iterator[Finding]:
    code_pattern = BASE_CODE if source.package_path == BASE_CLASSES_MODULE else DOTTED_CODE
    has_code = False
    for name, value, statement in class_attributes(cls):
        if name in TRANSLATED_ATTRIBUTES and not is_translated_literal(value):
            yield source.finding(
                statement, CODE, f'{cls.name}.{name} must be _("a plain string literal")'
            )
        elif name == "code":
            has_code = True
            literal = value.value if isinstance(value, ast.Constant) else None
            if not isinstance(literal, str) or not code_pattern.match(literal):
                yield source.finding(
                    statement,
                    CODE,
                    f'{cls.name}.code must be a dotted lowercase literal like "ticket.not_found"',
                )
    if not has_code:
        yield source.finding(
            cls, CODE, f'{cls.name} has no `code` class attribute (like "ticket.not_found")'
        )


def check(source: SourceFile) -> Iterator[Finding]:
    if source.package_path is None:
        return
    in_errors_module = source.package_path.rpartition("/")[2] == "errors.py"
    aliases = import_aliases(source.tree)
    local: set[str] = set()
    for node in ast.walk(source.tree):
        if isinstance(node, ast.ClassDef) and is_domain_error(
            node, aliases, in_errors_module, local
        ):
            local.add(node.name)
            yield from check_class(source, node)
