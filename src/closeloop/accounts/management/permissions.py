"""The single place that decides who may manage accounts.

- Staff (agents, teams, skills, the organisation) are changed by admins only.
- Agents of any role read everything in accounts, and create and change customers and companies.
- A customer reads and changes only their own profile (name and locale).

A record the caller may not see answers exactly like a missing one (the use case raises the
``*NotFound`` error); an action the caller's role may not take raises ``PermissionDenied``.
"""

from __future__ import annotations

from collections.abc import Collection

from closeloop.accounts.domain import Principal
from closeloop.kit.errors import PermissionDenied

# What an agent may change on their own profile, and a customer on theirs.
AGENT_SELF_FIELDS = frozenset({"name", "locale", "time_zone"})
CUSTOMER_SELF_FIELDS = frozenset({"name", "locale"})


def can_read_accounts(principal: Principal) -> bool:
    """Agents, lists of agents, teams, skills, companies, customers, the organisation."""
    return principal.is_agent or principal.is_admin


def can_manage_staff(principal: Principal) -> bool:
    return principal.is_admin


def can_manage_customers(principal: Principal) -> bool:
    """Create and change customers and companies."""
    return principal.is_agent or principal.is_admin


def can_merge_customers(principal: Principal) -> bool:
    """Merge two customers into one: agents of any role (the issue asks for agents, not only
    leads); every merge is in the audit trail of both customers, with who did it."""
    return principal.is_agent or principal.is_admin


def can_read_customer(principal: Principal, customer_id: int) -> bool:
    return can_read_accounts(principal) or (principal.is_customer and principal.id == customer_id)


def can_update_agent(principal: Principal, agent_id: int, fields: Collection[str]) -> bool:
    if can_manage_staff(principal):
        return True
    return principal.is_agent and principal.id == agent_id and set(fields) <= AGENT_SELF_FIELDS


def can_update_customer(principal: Principal, customer_id: int, fields: Collection[str]) -> bool:
    if can_manage_customers(principal):
        return True
    return (
        principal.is_customer
        and principal.id == customer_id
        and set(fields) <= CUSTOMER_SELF_FIELDS
    )


def can_manage_tokens_of_agent(principal: Principal, agent_id: int) -> bool:
    return can_manage_staff(principal) or (principal.is_agent and principal.id == agent_id)


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied()
