"""The organisation's settings over JSON: agents read them, admins change them."""

from __future__ import annotations

from fastapi import APIRouter

from closeloop.accounts import management
from closeloop.accounts.schemas import OrganisationRead, OrganisationUpdate
from closeloop.api.deps import CurrentPrincipal, Uow, Via

router = APIRouter(prefix="/organisation", tags=["organisation"])


@router.get("", response_model=OrganisationRead)
def get_organisation(uow: Uow, actor: CurrentPrincipal) -> OrganisationRead:
    return OrganisationRead.of(management.read_organisation(uow, actor=actor))


@router.patch("", response_model=OrganisationRead)
def update_organisation(
    data: OrganisationUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> OrganisationRead:
    """Change the name, default language (zh_CN or en) or time zone (admins)."""
    organisation = management.update_organisation(uow, changes=data, actor=actor, via=via)
    uow.commit()
    return OrganisationRead.of(organisation)
