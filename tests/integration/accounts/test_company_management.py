"""Managing companies."""

from __future__ import annotations

import pytest
from tests.builders import (
    customer_principal,
    make_agent,
    make_company,
    make_customer,
    principal_of,
)

from closeloop.accounts import management
from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.errors import (
    CompanyInUse,
    CompanyNotFound,
    InvalidCompanyDomain,
    NameAlreadyUsed,
    UnknownTier,
)
from closeloop.accounts.schemas import CompanyUpdate
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied


def test_an_agent_creates_and_changes_a_company_with_a_full_trail(uow: UnitOfWork) -> None:
    agent = principal_of(uow, make_agent(uow, password=None))
    company = management.create_company(
        uow, name="  Acme 中国 ", domain="ACME.cn.", tier="vip", actor=agent, via="t"
    )
    assert (company.name, company.domain, company.tier, company.notes) == (
        "Acme 中国",
        "acme.cn",
        "vip",
        "",
    )
    management.update_company(
        uow,
        company_id=company.id,
        changes=CompanyUpdate(domain=None, notes="Key account", tier="standard"),
        actor=agent,
        via="t",
    )
    assert [
        (e.action, e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="company", entity_id=company.id)
    ] == [
        ("company.created", "name", None, "Acme 中国"),
        ("company.created", "domain", None, "acme.cn"),
        ("company.created", "tier", None, "vip"),
        ("company.updated", "domain", "acme.cn", None),
        ("company.updated", "notes", "", "Key account"),
        ("company.updated", "tier", "vip", "standard"),
    ]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param({"domain": "not a domain"}, InvalidCompanyDomain, id="domain_case"),
        pytest.param({"domain": "localhost"}, InvalidCompanyDomain, id="single_label_case"),
        pytest.param({"tier": "gold"}, UnknownTier, id="tier_case"),
        pytest.param({"name": "TAKEN"}, NameAlreadyUsed, id="name_case"),
    ],
)
def test_bad_company_fields_are_refused(
    uow: UnitOfWork, fields: dict[str, str], error: type[Exception]
) -> None:
    make_company(uow, name="Taken")
    arguments: dict[str, str] = {"name": "Fresh", **fields}
    with pytest.raises(error):
        management.create_company(uow, **arguments, actor=SYSTEM, via="t")


def test_a_company_with_customers_cannot_be_deleted(uow: UnitOfWork) -> None:
    company = make_company(uow, name="Busy")
    customer = make_customer(uow, company=company)
    with pytest.raises(CompanyInUse) as refused:
        management.delete_company(uow, company_id=company.id, actor=SYSTEM, via="t")
    assert refused.value.render("en") == (
        "The company Busy still has 1 customers. Move them to another first."
    )
    customer.company_id = None
    uow.session.flush()
    management.delete_company(uow, company_id=company.id, actor=SYSTEM, via="t")
    with pytest.raises(CompanyNotFound):
        management.get_company(uow, company_id=company.id, actor=SYSTEM)


def test_companies_are_listed_by_name_a_page_at_a_time(uow: UnitOfWork) -> None:
    made = [make_company(uow, name=name) for name in ("Delta", "Alpha", "Charlie", "Bravo")]
    first = management.list_companies(uow, actor=SYSTEM, limit=3)
    second = management.list_companies(uow, actor=SYSTEM, limit=3, cursor=first.next_cursor)
    assert [c.name for c in first.items] == ["Alpha", "Bravo", "Charlie"]
    assert [c.name for c in second.items] == ["Delta"]
    assert second.next_cursor is None
    assert [c.id for c in management.list_companies(uow, actor=SYSTEM, text="br").items] == [
        made[3].id
    ]


def test_customers_neither_see_nor_change_companies(uow: UnitOfWork) -> None:
    company = make_company(uow, name="Theirs")
    customer = customer_principal(make_customer(uow, company=company, is_company_admin=True))
    with pytest.raises(CompanyNotFound):
        management.get_company(uow, company_id=company.id, actor=customer)
    with pytest.raises(CompanyNotFound):
        management.update_company(
            uow, company_id=company.id, changes=CompanyUpdate(name="Mine"), actor=customer, via="t"
        )
    with pytest.raises(PermissionDenied):
        management.create_company(uow, name="New", actor=customer, via="t")
    with pytest.raises(PermissionDenied):
        management.list_companies(uow, actor=customer)
    assert company.name == "Theirs"
