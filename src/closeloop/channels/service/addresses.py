"""Addresses mail to which bounces: recorded from delivery-status reports, consulted by
outbound email, forgotten when the person writes in again from the address."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, normalise_identity
from closeloop.channels import repository
from closeloop.channels.models import AddressFailure
from closeloop.db.session import UnitOfWork


def is_address_failing(uow: UnitOfWork, address: str) -> bool:
    """True when mail to ``address`` bounced and nothing came from it since."""
    normalised = normalise_identity(IdentityKind.email, address)
    return repository.address_failure(uow.session, normalised) is not None


def record_address_failure(uow: UnitOfWork, address: str, *, reason: str) -> None:
    normalised = normalise_identity(IdentityKind.email, address)[:254]
    now = uow.clock.now()
    existing = repository.address_failure(uow.session, normalised)
    if existing is None:
        customer = accounts.find_customer_by_identity(uow, IdentityKind.email, normalised)
        try:
            with uow.savepoint():
                uow.session.add(
                    AddressFailure(
                        address=normalised,
                        customer_id=customer.id if customer is not None else None,
                        first_failed_at=now,
                        last_failed_at=now,
                        count=1,
                        last_reason=reason,
                    )
                )
                uow.session.flush()
            return
        except IntegrityError:
            existing = repository.address_failure(uow.session, normalised)
            if existing is None:
                raise
    existing.count += 1
    existing.last_failed_at = now
    existing.last_reason = reason


def clear_address_failure(uow: UnitOfWork, address: str) -> None:
    repository.clear_address_failure(uow.session, normalise_identity(IdentityKind.email, address))
