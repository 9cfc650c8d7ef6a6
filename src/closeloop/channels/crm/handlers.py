"""Reactions of the CRM lookup to accounts' events (subscribed in ``closeloop.wiring``)."""

from __future__ import annotations

from closeloop.accounts.events import CustomerCreated
from closeloop.channels.crm import service
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue


def on_customer_created(uow: UnitOfWork, event: CustomerCreated) -> None:
    """Queue the customer's lookup when the CRM lookup is on. In the creating transaction (an
    outbox row): the lookup itself runs later in a worker and never holds up intake."""
    if not service.is_enabled(uow):
        return
    enqueue(
        uow,
        service.ENRICH_TASK,
        {"customer_id": event.customer_id},
        idempotency_key=f"{service.ENRICH_TASK}:customer:{event.customer_id}",
    )
