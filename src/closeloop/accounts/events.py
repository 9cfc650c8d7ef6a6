"""What happened to accounts, for features above to react to (``closeloop.wiring``)."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.accounts.domain import Principal


@dataclass(frozen=True, slots=True)
class CustomerCreated:
    """A customer was created, by intake from a channel, by the API or by an agent."""

    customer_id: int
    via: str


@dataclass(frozen=True, slots=True)
class CustomersMerged:
    """``source_customer_id`` was merged into ``survivor_customer_id``: what belonged to the
    source (tickets it requested, tickets it follows) must move to the survivor. Handled in the
    same transaction as the merge, by the actor of the merge."""

    source_customer_id: int
    survivor_customer_id: int
    survivor_company_id: int | None
    actor: Principal
    via: str
