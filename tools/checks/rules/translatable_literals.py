"""CL005: the argument of _() is one plain string literal, so Babel can extract it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TypeGuard

from tools.checks.core import Finding, SourceFile

CODE = "CL005"


def is_translation_call(node: ast.AST) -> TypeGuard[ast.Call]:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "_") or (
        isinstance(func, ast.Attribute) and func.attr == "_"
    )


def is_plain_literal_call(call: ast.Call) -> bool:
    return (
        len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def describe(argument: ast.expr | None) -> str:
    if isinstance(argument, ast.JoinedStr):
        return "f-string inside _()"
    if isinstance(argument, ast.BinOp) and isinstance(argument.op, ast.Mod):
        return "%-formatting inside _()"
    if (
        isinstance(argument, ast.Call)
        and isinstance(argument.func, ast.Attribute)
        and argument.func.attr == "format"
    ):
        return ".format() inside _()"
    return "_() needs exactly one plain string literal"


def check(source: SourceFile) -> Iterator[Finding]:
    for node in ast.walk(source.tree):
        if is_translation_call(node) and not is_plain_literal_call(node):
            first = node.args[0] if node.args else None
            yield source.finding(
                node,
                CODE,
                f'{describe(first)}: write _("... {{name}} ...") and pass the values '
                "as parameters when rendering",
            )
