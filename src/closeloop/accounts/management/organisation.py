"""The organisation's own settings: its name, default language and time zone."""

from __future__ import annotations

from closeloop.accounts import repository
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import apply, check_locale, check_time_zone, record
from closeloop.accounts.models import Organisation
from closeloop.accounts.schemas import OrganisationUpdate
from closeloop.db.session import UnitOfWork

ENTITY = "organisation"


def read_organisation(uow: UnitOfWork, *, actor: Principal) -> Organisation:
    """The settings; before the first agent exists, the defaults (saved by the first change)."""
    permissions.require(permissions.can_read_accounts(actor))
    return accounts.get_organisation(uow)


def update_organisation(
    uow: UnitOfWork, *, changes: OrganisationUpdate, actor: Principal, via: str
) -> Organisation:
    permissions.require(permissions.can_manage_staff(actor))
    values = changes.given()
    check_locale(values.get("default_locale"))
    check_time_zone(values.get("time_zone"))
    accounts.get_organisation(uow)  # created on first use
    organisation = repository.organisation_for_update(uow.session)
    assert organisation is not None
    applied = apply(organisation, values)
    if not applied:
        return organisation
    organisation.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=organisation.id,
        action="organisation.updated",
        actor=actor,
        via=via,
        changes=applied,
    )
    return organisation
