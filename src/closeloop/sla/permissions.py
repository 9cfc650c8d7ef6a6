"""The single place that decides who may read and change SLA settings.

Staff (agents of any role, admins) read calendars, policies, ticket clocks and reports;
only admins change calendars and policies. Customers see none of it.
"""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.sla.errors import SlaManagementDenied, SlaReadDenied


def can_read(principal: Principal) -> bool:
    return principal.is_agent or principal.is_admin


def can_manage(principal: Principal) -> bool:
    return principal.is_admin


def require_read(principal: Principal) -> None:
    if not can_read(principal):
        raise SlaReadDenied()


def require_manage(principal: Principal) -> None:
    if not can_manage(principal):
        if not can_read(principal):
            raise SlaReadDenied()
        raise SlaManagementDenied()
