"""The rules, one module each; ``ALL_CHECKS`` is what ``run.py`` applies."""

from __future__ import annotations

from tools.checks.core import Check
from tools.checks.rules import (
    domain_errors,
    no_commit,
    no_print,
    no_wall_clock,
    translatable_literals,
)

ALL_CHECKS: tuple[Check, ...] = (
    no_commit.check,
    no_wall_clock.check,
    no_print.check,
    domain_errors.check,
    translatable_literals.check,
)
