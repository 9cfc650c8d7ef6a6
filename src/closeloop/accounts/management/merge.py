"""Merging two customers who turn out to be one person (a phone caller who also writes email).

The survivor keeps its profile and receives the other's identities; the merged customer stays
as history (``merged_into_id``), found by no identity, unable to sign in. What other features
hold of the merged customer (tickets it requested or follows) moves in the same transaction, by
their reaction to :class:`~closeloop.accounts.events.CustomersMerged` (accounts sits below
tickets and cannot change them itself).

Profile rules: the survivor's name, company, locale and notes stay; an empty company, locale or
notes is filled from the merged customer (the company with its company-admin flag); the tier is
the higher of the two (``vip`` wins over ``standard``).
"""

from __future__ import annotations

from typing import Any

from closeloop.accounts import repository
from closeloop.accounts.domain import CustomerTier, Principal
from closeloop.accounts.errors import CustomerMergeRefused, CustomerNotFound
from closeloop.accounts.events import CustomersMerged
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import apply, record
from closeloop.accounts.models import Customer
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import LazyString, _

ENTITY = "customer"


def _lock(uow: UnitOfWork, customer_id: int, actor: Principal) -> Customer:
    customer = None
    if permissions.can_read_customer(actor, customer_id):
        customer = repository.customer_for_update(uow.session, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


def _refuse(source_id: int, target_id: int, reason: LazyString) -> CustomerMergeRefused:
    return CustomerMergeRefused(source=source_id, target=target_id, reason=reason)


def _profile_from(source: Customer, survivor: Customer) -> dict[str, Any]:
    """What the survivor takes over from the merged customer (see the module's rules)."""
    values: dict[str, Any] = {}
    if survivor.company_id is None and source.company_id is not None:
        values["company_id"] = source.company_id
        values["is_company_admin"] = source.is_company_admin
    if survivor.tier != CustomerTier.vip.value and source.tier == CustomerTier.vip.value:
        values["tier"] = CustomerTier.vip.value
    if survivor.locale is None and source.locale is not None:
        values["locale"] = source.locale
    if not survivor.notes.strip() and source.notes.strip():
        values["notes"] = source.notes
    return values


def merge_customers(
    uow: UnitOfWork, *, customer_id: int, into_customer_id: int, actor: Principal, via: str
) -> Customer:
    """Merge customer ``customer_id`` into ``into_customer_id``; return the survivor."""
    # Lock both rows in id order, so two opposite merges queue instead of deadlocking.
    locked = {cid: _lock(uow, cid, actor) for cid in sorted({customer_id, into_customer_id})}
    permissions.require(permissions.can_merge_customers(actor))
    source, survivor = locked[customer_id], locked[into_customer_id]
    if source.id == survivor.id:
        raise _refuse(source.id, survivor.id, _("a customer cannot be merged into itself."))
    if source.merged_into_id is not None:
        raise _refuse(source.id, survivor.id, _("it was already merged into another customer."))
    if survivor.merged_into_id is not None:
        raise _refuse(
            source.id,
            survivor.id,
            _("the target was itself merged into another customer; merge into that one."),
        )
    now = uow.clock.now()
    identities = [
        {"kind": i.kind, "value": i.value}
        for i in repository.identities_of(uow.session, [source.id])
    ]
    repository.move_identities(uow.session, source.id, survivor.id)
    survivor_changes = apply(survivor, _profile_from(source, survivor))
    survivor.updated_at = now
    source.merged_into_id = survivor.id
    source.updated_at = now
    revoked = repository.revoke_customer_credentials(uow.session, source.id, now)
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=source.id,
        action="customer.merged",
        actor=actor,
        via=via,
        changes=[
            Change("merged_into_id", None, survivor.id),
            Change("identities", identities, []),
            *([Change("api_tokens_revoked", None, revoked)] if revoked else []),
        ],
    )
    record(
        uow,
        entity_type=ENTITY,
        entity_id=survivor.id,
        action="customer.merged",
        actor=actor,
        via=via,
        changes=[
            Change("merged_from", None, {"customer_id": source.id, "identities": identities}),
            *survivor_changes,
        ],
    )
    uow.publish(
        CustomersMerged(
            source_customer_id=source.id,
            survivor_customer_id=survivor.id,
            survivor_company_id=survivor.company_id,
            actor=actor,
            via=via,
        )
    )
    return survivor
