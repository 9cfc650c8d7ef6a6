"""Managing customers: their profile, their identities, and finding them by any identity."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from closeloop.accounts import repository
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import (
    IdentityKind,
    Principal,
    is_valid_identity,
    normalise_identity,
)
from closeloop.accounts.errors import (
    CompanyNotFound,
    CompanyRequired,
    CustomerMerged,
    CustomerNotFound,
    IdentityAlreadyUsed,
    IdentityNotFound,
    IdentityRequired,
    InvalidIdentity,
    LastIdentityRequired,
)
from closeloop.accounts.management import permissions
from closeloop.accounts.management._common import (
    apply,
    check_locale,
    clean_tier,
    id_cursor,
    next_id_cursor,
    page_size,
    record,
)
from closeloop.accounts.models import Company, Customer, CustomerIdentity
from closeloop.accounts.repository import CustomerQuery
from closeloop.accounts.schemas import CustomerRead, CustomerUpdate
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, Page

ENTITY = "customer"


def _visible(
    uow: UnitOfWork, customer_id: int, actor: Principal, *, for_update: bool = False
) -> Customer:
    """The customer if the actor may see them (agents: all; a customer: themself)."""
    customer = None
    if permissions.can_read_customer(actor, customer_id):
        customer = (
            repository.customer_for_update(uow.session, customer_id)
            if for_update
            else uow.session.get(Customer, customer_id)
        )
    if customer is None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


def check_not_merged(customer: Customer) -> None:
    """A merged customer is history: change the survivor instead."""
    if customer.merged_into_id is not None:
        raise CustomerMerged(customer_id=customer.id, survivor_id=customer.merged_into_id)


def _check_company(uow: UnitOfWork, company_id: int | None) -> None:
    if company_id is not None and uow.session.get(Company, company_id) is None:
        raise CompanyNotFound(company_id=company_id)


def create_customer(
    uow: UnitOfWork,
    *,
    name: str,
    actor: Principal,
    via: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    wechat_openid: str | None = None,
    external_id: str | None = None,
    company_id: int | None = None,
    tier: str = "standard",
    is_company_admin: bool = False,
    locale: str | None = None,
    notes: str = "",
) -> Customer:
    """A customer with at least one identity; every identity must be free."""
    permissions.require(permissions.can_manage_customers(actor))
    identities = [(IdentityKind.email, value) for value in emails]
    identities += [(IdentityKind.phone, value) for value in phones]
    if wechat_openid:
        identities.append((IdentityKind.wechat_openid, wechat_openid))
    if external_id:
        identities.append((IdentityKind.external_id, external_id))
    if not identities:
        raise IdentityRequired()
    tier = clean_tier(tier)
    check_locale(locale)
    _check_company(uow, company_id)
    if is_company_admin and company_id is None:
        raise CompanyRequired()
    customer = accounts.create_customer(
        uow,
        name=name,
        identities=identities,
        actor=actor,
        via=via,
        company_id=company_id,
        tier=tier,
        locale=locale,
        is_company_admin=is_company_admin,
    )
    customer.notes = notes
    uow.session.flush()
    # accounts.create_customer records the name and identities; the rest of the profile:
    rest = {
        "company_id": company_id,
        "tier": tier if tier != "standard" else None,
        "is_company_admin": is_company_admin or None,
        "locale": locale,
        "notes": notes or None,
    }
    extra = [Change(field, None, value) for field, value in rest.items() if value is not None]
    if extra:
        record(
            uow,
            entity_type=ENTITY,
            entity_id=customer.id,
            action="customer.created",
            actor=actor,
            via=via,
            changes=extra,
        )
    return customer


def get_customer(uow: UnitOfWork, *, customer_id: int, actor: Principal) -> Customer:
    return _visible(uow, customer_id, actor)


def list_customer_identities(
    uow: UnitOfWork, *, customer_id: int, actor: Principal
) -> Sequence[CustomerIdentity]:
    """The customer's identities, oldest first (agents; a customer: their own)."""
    customer = _visible(uow, customer_id, actor)
    return accounts.identities_of(uow, [customer.id])


def present_customers(
    uow: UnitOfWork, customers: Sequence[Customer], *, actor: Principal
) -> list[CustomerRead]:
    """Read models with identities grouped by kind (one query); notes only for agents."""
    by_customer: dict[int, list[CustomerIdentity]] = {c.id: [] for c in customers}
    for identity in accounts.identities_of(uow, [c.id for c in customers]):
        by_customer[identity.customer_id].append(identity)
    with_notes = permissions.can_read_accounts(actor)
    return [CustomerRead.of(c, by_customer[c.id], with_notes=with_notes) for c in customers]


def search_customers(
    uow: UnitOfWork,
    *,
    text: str = "",
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    actor: Principal,
    email: str | None = None,
    phone: str | None = None,
    wechat_openid: str | None = None,
    external_id: str | None = None,
    company_id: int | None = None,
) -> Page[Customer]:
    """Customers, newest first. ``text`` matches the start of the name or of an email, or any
    identity written in any form (``138 0013 8000`` finds ``+8613800138000``). Each identity
    given by kind must belong to the customer."""
    permissions.require(permissions.can_read_accounts(actor))
    by_kind = {
        IdentityKind.email: email,
        IdentityKind.phone: phone,
        IdentityKind.wechat_openid: wechat_openid,
        IdentityKind.external_id: external_id,
    }
    exact = [
        (kind.value, normalise_identity(kind, value))
        for kind, value in by_kind.items()
        if value is not None
    ]
    text = text.strip()
    text_identities = [
        (kind.value, normalise_identity(kind, text))
        for kind in IdentityKind
        if text and is_valid_identity(kind, text)
    ]
    size = page_size(limit)
    query = CustomerQuery(
        exact=exact,
        text=text,
        text_identities=text_identities,
        company_id=company_id,
        after_id=id_cursor(cursor),
        limit=size,
    )
    customers, more = repository.customers_page(uow.session, query)
    return Page(items=customers, next_cursor=next_id_cursor(customers, more))


def update_customer(
    uow: UnitOfWork, *, customer_id: int, changes: CustomerUpdate, actor: Principal, via: str
) -> Customer:
    """Agents change any field; a customer changes only their own name and locale. A company
    admin must belong to a company: leaving the company also ends the admin role."""
    customer = _visible(uow, customer_id, actor, for_update=True)
    check_not_merged(customer)
    values = changes.given()
    permissions.require(permissions.can_update_customer(actor, customer.id, values))
    check_locale(values.get("locale"))
    if "tier" in values:
        values["tier"] = clean_tier(values["tier"])
    if "company_id" in values:
        _check_company(uow, values["company_id"])
    company_id = values.get("company_id", customer.company_id)
    if company_id is None and values.get("is_company_admin", customer.is_company_admin):
        if values.get("is_company_admin"):
            raise CompanyRequired()
        values["is_company_admin"] = False
    applied = apply(customer, values)
    if not applied:
        return customer
    customer.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="customer.updated",
        actor=actor,
        via=via,
        changes=applied,
    )
    return customer


def _for_identity_change(uow: UnitOfWork, customer_id: int, actor: Principal) -> Customer:
    customer = _visible(uow, customer_id, actor, for_update=True)
    permissions.require(permissions.can_manage_customers(actor))
    check_not_merged(customer)
    return customer


def add_customer_identity(
    uow: UnitOfWork,
    *,
    customer_id: int,
    kind: IdentityKind,
    value: str,
    actor: Principal,
    via: str,
    is_primary: bool = False,
) -> CustomerIdentity:
    """Recognise the customer by one more identity. The first of its kind, or one added with
    ``is_primary``, becomes the primary one of its kind. Adding one the customer already has
    changes nothing (but can make it primary); one another customer has is refused."""
    customer = _for_identity_change(uow, customer_id, actor)
    if not is_valid_identity(kind, value):
        raise InvalidIdentity(kind=kind.value, value=value)
    normalised = normalise_identity(kind, value)
    existing = repository.identity(uow.session, kind.value, normalised)
    if existing is not None and existing.customer_id != customer.id:
        raise IdentityAlreadyUsed(kind=kind.value, value=normalised)
    same_kind = repository.identities_of_kind(uow.session, customer.id, kind.value)
    previous = next((i for i in same_kind if i.is_primary), None)
    if existing is not None and (existing.is_primary or not is_primary):
        return existing
    changes: list[Change] = []
    identity = existing
    if identity is None:
        identity = CustomerIdentity(
            customer_id=customer.id,
            kind=kind.value,
            value=normalised,
            is_primary=False,
            created_at=uow.clock.now(),
        )
        uow.session.add(identity)
        changes.append(Change(f"identity.{kind.value}", None, normalised))
    if is_primary or previous is None:
        if previous is not None:
            previous.is_primary = False
            uow.session.flush()
        identity.is_primary = True
        changes.append(
            Change(f"primary.{kind.value}", previous.value if previous else None, normalised)
        )
    customer.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="customer.identity_added" if existing is None else "customer.identity_changed",
        actor=actor,
        via=via,
        changes=changes,
    )
    return identity


def remove_customer_identity(
    uow: UnitOfWork, *, customer_id: int, identity_id: int, actor: Principal, via: str
) -> None:
    """Forget one identity. The last one cannot go (nothing would recognise the customer); when
    the primary one of a kind goes, the oldest remaining one of that kind becomes primary."""
    customer = _for_identity_change(uow, customer_id, actor)
    identity = uow.session.get(CustomerIdentity, identity_id)
    if identity is None or identity.customer_id != customer.id:
        raise IdentityNotFound(customer_id=customer.id, identity_id=identity_id)
    if repository.identity_count(uow.session, customer.id) <= 1:
        raise LastIdentityRequired(value=identity.value, customer_id=customer.id)
    changes = [Change(f"identity.{identity.kind}", identity.value, None)]
    uow.session.delete(identity)
    uow.session.flush()
    if identity.is_primary:
        remaining = repository.identities_of_kind(uow.session, customer.id, identity.kind)
        if remaining:
            remaining[0].is_primary = True
        changes.append(
            Change(
                f"primary.{identity.kind}",
                identity.value,
                remaining[0].value if remaining else None,
            )
        )
    customer.updated_at = uow.clock.now()
    uow.session.flush()
    record(
        uow,
        entity_type=ENTITY,
        entity_id=customer.id,
        action="customer.identity_removed",
        actor=actor,
        via=via,
        changes=changes,
    )
