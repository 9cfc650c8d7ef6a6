"""CRM lookup settings (administrators), the test lookup, and applying what the CRM says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, CustomerTier, IdentityKind, Principal
from closeloop.accounts.errors import CustomerMerged, CustomerNotFound
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.channels.credentials import SecretBox, SecretUnreadable
from closeloop.channels.crm import repository
from closeloop.channels.crm.client import LookupRequest
from closeloop.channels.crm.errors import (
    CrmNotConfigured,
    CrmTokenUnreadable,
    InvalidCrmTemplate,
)
from closeloop.channels.crm.lookup import Enrichment, lookup_url, template_problems
from closeloop.channels.crm.models import CrmSettings
from closeloop.channels.crm.schemas import CrmSettingsUpdate, CrmTestLookup
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.kit.logging import get_logger

ENTITY = "crm_settings"
ENRICH_TASK = "channels.crm.enrich"
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LookupPlan:
    """One lookup, ready to run outside any transaction: the request and how to read it."""

    customer_id: int
    request: LookupRequest
    tier_path: str
    tier_values: dict[str, str]
    company_path: str


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


def _defaults(uow: UnitOfWork) -> CrmSettings:
    return CrmSettings(
        is_enabled=False,
        url_template="",
        token_encrypted=None,
        timeout_seconds=5.0,
        tier_path="",
        tier_values={},
        company_path="",
        updated_at=uow.clock.now(),
    )


def current_settings(uow: UnitOfWork) -> CrmSettings | None:
    """The stored settings (None: never saved, so switched off)."""
    return repository.settings_row(uow.session)


def is_enabled(uow: UnitOfWork) -> bool:
    row = current_settings(uow)
    return row is not None and row.is_enabled and bool(row.url_template)


def read_settings(uow: UnitOfWork, *, actor: Principal) -> CrmSettings:
    _require_admin(actor)
    return current_settings(uow) or _defaults(uow)


def update_settings(
    uow: UnitOfWork, *, data: CrmSettingsUpdate, cipher: SecretBox, actor: Principal, via: str
) -> CrmSettings:
    """Change the fields sent. Switching on needs a usable address."""
    _require_admin(actor)
    row = repository.settings_row(uow.session, for_update=True)
    new = row is None
    if row is None:
        row = _defaults(uow)
        uow.session.add(row)
    values = data.given()
    changes: list[Change] = []
    for name in ("is_enabled", "url_template", "timeout_seconds", "tier_path", "company_path"):
        if name in values and values[name] != getattr(row, name):
            changes.append(Change(name, getattr(row, name), values[name]))
            setattr(row, name, values[name])
    if "tier_values" in values:
        mapping = {key: CustomerTier(value).value for key, value in values["tier_values"].items()}
        if mapping != row.tier_values:
            changes.append(Change("tier_values", dict(row.tier_values), mapping))
            row.tier_values = mapping
    if "token" in values:
        had = row.token_encrypted is not None
        token = values["token"]
        row.token_encrypted = cipher.encrypt(token.get_secret_value()) if token else None
        changes.append(Change("token", "set" if had else None, "set" if token else None))
    if row.url_template and (problems := template_problems(row.url_template)):
        raise InvalidCrmTemplate(problems="; ".join(problems))
    if row.is_enabled and not row.url_template:
        raise CrmNotConfigured()
    if not changes and not new:
        return row
    row.updated_at = uow.clock.now()
    uow.session.flush()
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=row.id,
        action="crm_settings.updated",
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new,
    )
    return row


def _request(row: CrmSettings, values: dict[str, str | None], cipher: SecretBox) -> LookupRequest:
    token = cipher.decrypt(row.token_encrypted) if row.token_encrypted else None
    return LookupRequest(
        url=lookup_url(row.url_template, values),
        token=token,
        timeout_seconds=row.timeout_seconds,
    )


def trial_lookup_plan(
    uow: UnitOfWork, *, data: CrmTestLookup, cipher: SecretBox, actor: Principal
) -> LookupPlan:
    """The lookup an admin tries with values of their choice (on or off)."""
    _require_admin(actor)
    row = current_settings(uow)
    if row is None or not row.url_template:
        raise CrmNotConfigured()
    values = {
        "email": data.email,
        "phone": data.phone,
        "external_id": data.external_id,
        "name": data.name,
    }
    try:
        request = _request(row, values, cipher)
    except SecretUnreadable as error:
        raise CrmTokenUnreadable() from error
    return LookupPlan(
        customer_id=0,
        request=request,
        tier_path=row.tier_path,
        tier_values=dict(row.tier_values),
        company_path=row.company_path,
    )


def enrichment_plan(uow: UnitOfWork, *, customer_id: int, cipher: SecretBox) -> LookupPlan | None:
    """The lookup of one customer, or None when there is nothing to do (switched off, the
    customer gone or merged, no identity to ask with, a token the server key cannot read)."""
    row = current_settings(uow)
    if row is None or not row.is_enabled or not row.url_template:
        return None
    try:
        customer = accounts.get_customer(uow, customer_id)
    except CustomerNotFound:
        return None
    if customer.merged_into_id is not None:
        return None
    values: dict[str, str | None] = {"name": customer.name}
    for identity in sorted(
        accounts.identities_of(uow, [customer.id]), key=lambda i: (not i.is_primary, i.id)
    ):
        values.setdefault(identity.kind, identity.value)
    asked = (IdentityKind.email, IdentityKind.phone, IdentityKind.external_id)
    if not any(values.get(kind.value) for kind in asked):
        return None
    try:
        request = _request(row, values, cipher)
    except SecretUnreadable:
        log.warning("crm.token_unreadable", customer_id=customer_id)
        return None
    return LookupPlan(
        customer_id=customer.id,
        request=request,
        tier_path=row.tier_path,
        tier_values=dict(row.tier_values),
        company_path=row.company_path,
    )


def apply_enrichment(
    uow: UnitOfWork, *, customer_id: int, enrichment: Enrichment, via: str
) -> list[str]:
    """Set the customer's tier and company (found or created by name) from the CRM; return
    the fields that changed. The audit trail names ``via`` (the job)."""
    changes: dict[str, Any] = {}
    if enrichment.company is not None:
        company = management.find_or_create_company(
            uow, name=enrichment.company, actor=SYSTEM, via=via
        )
        changes["company_id"] = company.id
    if enrichment.tier is not None:
        changes["tier"] = CustomerTier(enrichment.tier)
    if not changes:
        return []
    customer = accounts.get_customer(uow, customer_id)
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    if not changed:
        return []
    try:
        management.update_customer(
            uow,
            customer_id=customer_id,
            changes=management.CustomerUpdate(**changes),
            actor=SYSTEM,
            via=via,
        )
    except CustomerMerged:
        return []
    return sorted(changed)
