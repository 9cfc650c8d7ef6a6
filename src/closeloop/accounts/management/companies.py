"""Companies that customers belong to: create, change, list, delete when empty."""

from __future__ import annotations

from closeloop.accounts import repository
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import (
    CompanyInUse,
    CompanyNotFound,
    InvalidCompanyDomain,
    NameAlreadyUsed,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import (
    apply,
    clean_tier,
    name_cursor,
    next_name_cursor,
    page_size,
    record,
)
from closeloop.accounts.management.domain import normalise_domain
from closeloop.accounts.models import Company
from closeloop.accounts.schemas import CompanyUpdate
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, Page

ENTITY = "company"


def _visible(
    uow: UnitOfWork, company_id: int, actor: Principal, *, for_update: bool = False
) -> Company:
    company = None
    if permissions.can_read_accounts(actor):
        company = (
            repository.company_for_update(uow.session, company_id)
            if for_update
            else uow.session.get(Company, company_id)
        )
    if company is None:
        raise CompanyNotFound(company_id=company_id)
    return company


def _check_name(uow: UnitOfWork, name: str, company_id: int | None = None) -> str:
    name = name.strip()
    if repository.company_name_taken(uow.session, name, except_id=company_id):
        raise NameAlreadyUsed(name=name)
    return name


def _clean_domain(domain: str | None) -> str | None:
    if domain is None:
        return None
    normalised = normalise_domain(domain)
    if normalised is None:
        raise InvalidCompanyDomain(value=domain)
    return normalised


def create_company(
    uow: UnitOfWork,
    *,
    name: str,
    actor: Principal,
    via: str,
    domain: str | None = None,
    tier: str = "standard",
    notes: str = "",
) -> Company:
    permissions.require(permissions.can_manage_customers(actor))
    now = uow.clock.now()
    company = Company(
        name=_check_name(uow, name),
        domain=_clean_domain(domain),
        tier=clean_tier(tier),
        notes=notes,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(company)
    uow.session.flush()
    initial = {"name": company.name, "domain": company.domain, "tier": company.tier}
    changes = [Change(field, None, value) for field, value in initial.items() if value]
    if notes:
        changes.append(Change("notes", None, notes))
    record(
        uow,
        entity_type=ENTITY,
        entity_id=company.id,
        action="company.created",
        actor=actor,
        via=via,
        changes=changes,
        new_entity=True,
    )
    return company


def get_company(uow: UnitOfWork, *, company_id: int, actor: Principal) -> Company:
    return _visible(uow, company_id, actor)


def list_companies(
    uow: UnitOfWork,
    *,
    actor: Principal,
    text: str = "",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[Company]:
    """Companies by name; ``text`` matches the start of the name or of the domain."""
    permissions.require(permissions.can_read_accounts(actor))
    size = page_size(limit)
    companies, more = repository.companies_page(
        uow.session, text=text, after=name_cursor(cursor), limit=size
    )
    return Page(items=companies, next_cursor=next_name_cursor(companies, more))


def update_company(
    uow: UnitOfWork, *, company_id: int, changes: CompanyUpdate, actor: Principal, via: str
) -> Company:
    if permissions.can_read_accounts(actor):
        permissions.require(permissions.can_manage_customers(actor))
    company = _visible(uow, company_id, actor, for_update=True)
    values = changes.given()
    if "name" in values:
        values["name"] = _check_name(uow, values["name"], company.id)
    if "domain" in values:
        values["domain"] = _clean_domain(values["domain"])
    applied = apply(company, values)
    if not applied:
        return company
    company.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=company.id,
        action="company.updated",
        actor=actor,
        via=via,
        changes=applied,
    )
    return company


def delete_company(uow: UnitOfWork, *, company_id: int, actor: Principal, via: str) -> None:
    """Delete a company that no customer belongs to any more."""
    if permissions.can_read_accounts(actor):
        permissions.require(permissions.can_manage_customers(actor))
    company = _visible(uow, company_id, actor, for_update=True)
    count = repository.customer_count_of_company(uow.session, company.id)
    if count:
        raise CompanyInUse(name=company.name, count=count)
    record(
        uow,
        entity_type=ENTITY,
        entity_id=company.id,
        action="company.deleted",
        actor=actor,
        via=via,
        changes=[Change("name", company.name, None)],
    )
    uow.session.delete(company)
    uow.session.flush()


def find_or_create_company(uow: UnitOfWork, *, name: str, actor: Principal, via: str) -> Company:
    """The company with this name (ignoring case), created if there is none (CRM enrichment)."""
    permissions.require(permissions.can_manage_customers(actor))
    found = repository.company_by_name(uow.session, name.strip())
    if found is not None:
        return found
    return create_company(uow, name=name, actor=actor, via=via)
