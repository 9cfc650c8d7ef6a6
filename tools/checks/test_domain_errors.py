from __future__ import annotations

from tools.checks.core import run_check
from tools.checks.rules import domain_errors

ERRORS_MODULE = "src/closeloop/tickets/errors.py"

GOOD = """
    from closeloop.kit.errors import DomainError, NotFound
    from closeloop.kit.i18n import _


    class TicketNotFound(NotFound):
        code = "ticket.not_found"
        message = _("Ticket {ticket_id} does not exist.")


    class TicketClosed(DomainError):
        code: str = "ticket.closed"
        title = _("Ticket closed")
        message = _(
            "Ticket {number} is closed. "
            "Create a follow-up ticket instead."
        )


    class ClosedForMerge(TicketClosed):
        code = "ticket.closed_for_merge"
"""


def test_well_formed_errors_pass() -> None:
    assert run_check(domain_errors.check, GOOD, ERRORS_MODULE) == []


def test_untranslated_message_and_bad_code_are_reported() -> None:
    source = """
        from closeloop.kit.errors import DomainError


        class TicketClosed(DomainError):
            code = "TicketClosed"
            title = "Ticket closed"
            message = _(f"Ticket {number} is closed.")


        class NoCode(TicketClosed):
            message = _("No code here.")
    """
    findings = run_check(domain_errors.check, source, ERRORS_MODULE)
    assert [(f.line, f.code) for f in findings] == [
        (6, "CL004"),
        (7, "CL004"),
        (8, "CL004"),
        (11, "CL004"),
    ]
    assert "NoCode has no `code`" in findings[-1].message


def test_error_subclasses_outside_errors_modules_are_found_through_their_import() -> None:
    source = """
        from closeloop.kit import errors


        class Overbooked(errors.Conflict):
            code = "overbooked"
    """
    findings = run_check(domain_errors.check, source, "src/closeloop/sla/service.py")
    assert [(f.line, f.code) for f in findings] == [(6, "CL004")]


def test_other_exceptions_outside_errors_modules_are_ignored() -> None:
    source = """
        class HeaderParseError(ValueError):
            pass
    """
    assert run_check(domain_errors.check, source, "src/closeloop/channels/email/parse.py") == []


def test_the_kit_base_classes_may_have_undotted_codes() -> None:
    source = """
        class DomainError(Exception):
            code = "error"


        class NotFound(DomainError):
            code = "not_found"
            title = _("Not found")
    """
    assert run_check(domain_errors.check, source, "src/closeloop/kit/errors.py") == []
    findings = run_check(domain_errors.check, source, "src/closeloop/accounts/errors.py")
    assert [(f.line, f.code) for f in findings] == [(7, "CL004")]
