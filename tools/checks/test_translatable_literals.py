from __future__ import annotations

import pytest

from tools.checks.core import run_check
from tools.checks.rules import translatable_literals

PATH = "src/closeloop/tickets/errors.py"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ('m = _(f"Ticket {number} is closed")', "f-string"),
        ('m = _("Ticket %s is closed" % number)', "%-formatting"),
        ('m = _("Ticket {} is closed".format(number))', ".format()"),
        ('m = _("Ticket " + number)', "one plain string literal"),
        ("m = _(MESSAGE)", "one plain string literal"),
        ("m = i18n._(MESSAGE)", "one plain string literal"),
    ],
)
def test_non_literal_arguments_are_reported(source: str, problem: str) -> None:
    findings = run_check(translatable_literals.check, source, PATH)
    assert [(f.line, f.code) for f in findings] == [(1, "CL005")]
    assert problem in findings[0].message


def test_plain_literals_pass() -> None:
    source = """
        m = _("Ticket {number} is closed.")
        n = _(
            "Ticket {number} was merged "
            "into {survivor}."
        )
        text = m.render("zh_CN", number=number)
    """
    assert run_check(translatable_literals.check, source, PATH) == []
