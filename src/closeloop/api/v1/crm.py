"""The organisation's CRM lookup over JSON (administrators): settings and a test lookup."""

from __future__ import annotations

from fastapi import APIRouter

from closeloop.api.deps import AdminPrincipal, AppSettings, Uow, Via
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm import service as crm
from closeloop.channels.crm.client import LookupFailure, fetch
from closeloop.channels.crm.lookup import enrichment_of
from closeloop.channels.crm.schemas import (
    CrmSettingsRead,
    CrmSettingsUpdate,
    CrmTestLookup,
    CrmTestResult,
)

router = APIRouter(prefix="/channels/crm", tags=["channels: CRM lookup"])


@router.get("", response_model=CrmSettingsRead)
def read_settings(uow: Uow, actor: AdminPrincipal) -> CrmSettingsRead:
    """The CRM lookup settings (the bearer token is never shown)."""
    return CrmSettingsRead.of(crm.read_settings(uow, actor=actor))


@router.patch("", response_model=CrmSettingsRead)
def update_settings(
    data: CrmSettingsUpdate, uow: Uow, actor: AdminPrincipal, via: Via, settings: AppSettings
) -> CrmSettingsRead:
    """Change the fields sent; switching on needs a usable address."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    row = crm.update_settings(uow, data=data, cipher=cipher, actor=actor, via=via)
    uow.commit()
    return CrmSettingsRead.of(row)


@router.post("/test", response_model=CrmTestResult)
def test_lookup(
    data: CrmTestLookup, uow: Uow, actor: AdminPrincipal, settings: AppSettings
) -> CrmTestResult:
    """Ask the CRM about the values given, now, and show what closeloop would take from the
    answer. Changes nothing."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    plan = crm.trial_lookup_plan(uow, data=data, cipher=cipher, actor=actor)
    uow.rollback()  # no transaction (on SQLite: no write lock) while the CRM answers
    outcome = fetch(plan.request)
    if isinstance(outcome, LookupFailure):
        return CrmTestResult(
            url=plan.request.url,
            status_code=None,
            found=False,
            tier=None,
            raw_tier=None,
            company=None,
            error=outcome.reason,
        )
    found = enrichment_of(
        outcome.document,
        tier_path=plan.tier_path,
        tier_values=plan.tier_values,
        company_path=plan.company_path,
    )
    return CrmTestResult(
        url=plan.request.url,
        status_code=outcome.status_code,
        found=outcome.document is not None,
        tier=found.tier,
        raw_tier=found.raw_tier,
        company=found.company,
        error=None,
        answer=outcome.document,
    )
