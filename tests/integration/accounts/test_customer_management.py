"""Managing customers: finding them by any identity, their identities, their own profile."""

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
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.accounts.errors import (
    CompanyRequired,
    CustomerNotFound,
    IdentityAlreadyUsed,
    IdentityNotFound,
    IdentityRequired,
    InvalidIdentity,
    InvalidPageCursor,
    LastIdentityRequired,
)
from closeloop.accounts.models import Customer
from closeloop.accounts.schemas import CustomerUpdate
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied


def _li_lei(uow: UnitOfWork) -> Customer:
    return management.create_customer(
        uow,
        name="李雷",
        emails=["Li.Lei@Example.CN"],
        phones=["138 0013 8000"],
        wechat_openid="oAbC-123_xyz",
        external_id="crm:42",
        actor=SYSTEM,
        via="t",
    )


def _ids(uow: UnitOfWork, **search: str) -> list[int]:
    return [c.id for c in management.search_customers(uow, actor=SYSTEM, **search).items]  # type: ignore[arg-type]


def _changes(uow: UnitOfWork, customer_id: int) -> list[tuple[str, str | None, object, object]]:
    return [
        (e.action, e.field, e.old_value, e.new_value)
        for e in audit.timeline(uow, entity_type="customer", entity_id=customer_id)
    ]


@pytest.mark.parametrize(
    ("search", "value"),
    [
        pytest.param("email", "LI.LEI@example.cn", id="email_case"),
        pytest.param("phone", "138 0013 8000", id="phone_spaces_case"),
        pytest.param("phone", "+8613800138000", id="phone_e164_case"),
        pytest.param("phone", "+86 138-0013-8000", id="phone_dashes_case"),
        pytest.param("phone", "008613800138000", id="phone_double_zero_case"),
        pytest.param("wechat_openid", "oAbC-123_xyz", id="openid_case"),
        pytest.param("external_id", " crm:42 ", id="external_id_case"),
        pytest.param("text", "138 0013 8000", id="text_phone_case"),
        pytest.param("text", "li.lei@EXAMPLE.cn", id="text_email_case"),
        pytest.param("text", "li.l", id="text_email_prefix_case"),
        pytest.param("text", "oAbC-123_xyz", id="text_openid_case"),
        pytest.param("text", "crm:42", id="text_external_id_case"),
        pytest.param("text", "李", id="text_name_prefix_case"),
    ],
)
def test_a_customer_is_found_by_any_of_its_identities(
    uow: UnitOfWork, search: str, value: str
) -> None:
    customer = _li_lei(uow)
    make_customer(uow, name="Han Meimei", email="han@example.cn")
    assert _ids(uow, **{search: value}) == [customer.id]


def test_identity_filters_all_have_to_match(uow: UnitOfWork) -> None:
    customer = _li_lei(uow)
    other = make_customer(uow, email="other@example.cn")
    assert _ids(uow, email="li.lei@example.cn", phone="13800138000") == [customer.id]
    assert _ids(uow, email="other@example.cn", phone="13800138000") == []
    assert _ids(uow, text="nobody") == []
    assert _ids(uow) == [other.id, customer.id]


def test_the_phone_number_is_stored_normalised(uow: UnitOfWork) -> None:
    customer = _li_lei(uow)
    read = management.present_customers(uow, [customer], actor=SYSTEM)[0]
    assert [i.value for i in read.identities.phone] == ["+8613800138000"]
    assert [i.value for i in read.identities.email] == ["li.lei@example.cn"]
    assert [(i.value, i.is_primary) for i in read.identities.wechat_openid] == [
        ("oAbC-123_xyz", True)
    ]


def test_name_search_treats_like_wildcards_as_text(uow: UnitOfWork) -> None:
    percent = make_customer(uow, name="100% Satisfied")
    make_customer(uow, name="100 Others")
    assert _ids(uow, text="100%") == [percent.id]
    assert _ids(uow, text="_") == []


def test_searching_pages_newest_first(uow: UnitOfWork) -> None:
    made = [make_customer(uow, name=f"Zhang {n}") for n in range(5)]
    first = management.search_customers(uow, text="zhang", limit=2, actor=SYSTEM)
    second = management.search_customers(
        uow, text="zhang", limit=2, cursor=first.next_cursor, actor=SYSTEM
    )
    third = management.search_customers(
        uow, text="zhang", limit=2, cursor=second.next_cursor, actor=SYSTEM
    )
    assert [c.id for c in first.items + second.items + third.items] == [
        c.id for c in reversed(made)
    ]
    assert third.next_cursor is None
    with pytest.raises(InvalidPageCursor):
        management.search_customers(uow, cursor="not-a-cursor", actor=SYSTEM)


def test_only_agents_search_customers(uow: UnitOfWork) -> None:
    customer = customer_principal(make_customer(uow))
    with pytest.raises(PermissionDenied):
        management.search_customers(uow, text="a", actor=customer)


def test_creating_a_customer_audits_every_field(uow: UnitOfWork) -> None:
    company = make_company(uow)
    agent = principal_of(uow, make_agent(uow, password=None))
    customer = management.create_customer(
        uow,
        name="Wang",
        phones=["13900139000"],
        company_id=company.id,
        tier="vip",
        is_company_admin=True,
        locale="en",
        notes="Prefers calls",
        actor=agent,
        via="t",
    )
    assert (customer.company_id, customer.tier, customer.notes) == (
        company.id,
        "vip",
        "Prefers calls",
    )
    assert _changes(uow, customer.id) == [
        ("customer.created", "name", None, "Wang"),
        ("customer.created", "identity.phone", None, "+8613900139000"),
        ("customer.created", "company_id", None, company.id),
        ("customer.created", "tier", None, "vip"),
        ("customer.created", "is_company_admin", None, True),
        ("customer.created", "locale", None, "en"),
        ("customer.created", "notes", None, "Prefers calls"),
    ]


def test_a_customer_needs_a_valid_free_identity(uow: UnitOfWork) -> None:
    make_customer(uow, email="taken@example.cn")
    with pytest.raises(IdentityRequired):
        management.create_customer(uow, name="Nobody", actor=SYSTEM, via="t")
    with pytest.raises(InvalidIdentity):
        management.create_customer(uow, name="X", emails=["no-at-sign"], actor=SYSTEM, via="t")
    with pytest.raises(IdentityAlreadyUsed):
        management.create_customer(
            uow, name="X", emails=["Taken@Example.cn"], actor=SYSTEM, via="t"
        )
    with pytest.raises(CompanyRequired):
        management.create_customer(
            uow, name="X", emails=["x@example.cn"], is_company_admin=True, actor=SYSTEM, via="t"
        )


def test_adding_identities_keeps_one_primary_per_kind(uow: UnitOfWork) -> None:
    customer = make_customer(uow, email="first@example.cn")
    second = management.add_customer_identity(
        uow,
        customer_id=customer.id,
        kind=IdentityKind.email,
        value="Second@Example.cn",
        actor=SYSTEM,
        via="t",
    )
    assert (second.value, second.is_primary) == ("second@example.cn", False)
    phone = management.add_customer_identity(
        uow,
        customer_id=customer.id,
        kind=IdentityKind.phone,
        value="139 0013 9000",
        actor=SYSTEM,
        via="t",
    )
    assert phone.is_primary is True
    again = management.add_customer_identity(
        uow,
        customer_id=customer.id,
        kind=IdentityKind.email,
        value="second@example.cn",
        is_primary=True,
        actor=SYSTEM,
        via="t",
    )
    assert again is second
    read = management.present_customers(uow, [customer], actor=SYSTEM)[0]
    assert [(i.value, i.is_primary) for i in read.identities.email] == [
        ("second@example.cn", True),
        ("first@example.cn", False),
    ]
    assert _changes(uow, customer.id)[2:] == [
        ("customer.identity_added", "identity.email", None, "second@example.cn"),
        ("customer.identity_added", "identity.phone", None, "+8613900139000"),
        ("customer.identity_added", "primary.phone", None, "+8613900139000"),
        ("customer.identity_changed", "primary.email", "first@example.cn", "second@example.cn"),
    ]


def test_another_customers_identity_cannot_be_added(uow: UnitOfWork) -> None:
    make_customer(uow, email="theirs@example.cn")
    mine = make_customer(uow)
    with pytest.raises(IdentityAlreadyUsed):
        management.add_customer_identity(
            uow,
            customer_id=mine.id,
            kind=IdentityKind.email,
            value="THEIRS@example.cn",
            actor=SYSTEM,
            via="t",
        )


def test_the_last_identity_cannot_be_removed(uow: UnitOfWork) -> None:
    customer = make_customer(uow, email="only@example.cn")
    (only,) = management.present_customers(uow, [customer], actor=SYSTEM)[0].identities.email
    with pytest.raises(LastIdentityRequired) as refused:
        management.remove_customer_identity(
            uow, customer_id=customer.id, identity_id=only.id, actor=SYSTEM, via="t"
        )
    assert refused.value.code == "customer.last_identity"
    assert _ids(uow, email="only@example.cn") == [customer.id]


def test_removing_the_primary_identity_promotes_the_next_of_its_kind(uow: UnitOfWork) -> None:
    customer = make_customer(uow, email="old@example.cn")
    management.add_customer_identity(
        uow,
        customer_id=customer.id,
        kind=IdentityKind.email,
        value="new@example.cn",
        actor=SYSTEM,
        via="t",
    )
    old = management.present_customers(uow, [customer], actor=SYSTEM)[0].identities.email[0]
    management.remove_customer_identity(
        uow, customer_id=customer.id, identity_id=old.id, actor=SYSTEM, via="t"
    )
    read = management.present_customers(uow, [customer], actor=SYSTEM)[0]
    assert [(i.value, i.is_primary) for i in read.identities.email] == [("new@example.cn", True)]
    assert _ids(uow, email="old@example.cn") == []
    assert _changes(uow, customer.id)[-2:] == [
        ("customer.identity_removed", "identity.email", "old@example.cn", None),
        ("customer.identity_removed", "primary.email", "old@example.cn", "new@example.cn"),
    ]


def test_an_identity_of_another_customer_cannot_be_removed_through_this_one(
    uow: UnitOfWork,
) -> None:
    theirs = make_customer(uow)
    management.add_customer_identity(
        uow,
        customer_id=theirs.id,
        kind=IdentityKind.external_id,
        value="x-1",
        actor=SYSTEM,
        via="t",
    )
    mine = make_customer(uow)
    their_identity = management.present_customers(uow, [theirs], actor=SYSTEM)[0].identities
    with pytest.raises(IdentityNotFound):
        management.remove_customer_identity(
            uow,
            customer_id=mine.id,
            identity_id=their_identity.email[0].id,
            actor=SYSTEM,
            via="t",
        )


def test_a_customer_reads_and_changes_only_their_own_name_and_locale(uow: UnitOfWork) -> None:
    me = make_customer(uow, name="Me")
    other = make_customer(uow, name="Other")
    actor: Principal = customer_principal(me)
    assert management.get_customer(uow, customer_id=me.id, actor=actor) is me
    read = management.present_customers(uow, [me], actor=actor)[0]
    assert read.notes is None
    management.update_customer(
        uow,
        customer_id=me.id,
        changes=CustomerUpdate(name="Me Too", locale="en"),
        actor=actor,
        via="t",
    )
    assert (me.name, me.locale) == ("Me Too", "en")
    with pytest.raises(PermissionDenied):
        management.update_customer(
            uow, customer_id=me.id, changes=CustomerUpdate(tier="vip"), actor=actor, via="t"
        )
    with pytest.raises(PermissionDenied):
        management.add_customer_identity(
            uow,
            customer_id=me.id,
            kind=IdentityKind.email,
            value="x@example.cn",
            actor=actor,
            via="t",
        )
    with pytest.raises(CustomerNotFound):
        management.get_customer(uow, customer_id=other.id, actor=actor)
    with pytest.raises(CustomerNotFound):
        management.update_customer(
            uow, customer_id=other.id, changes=CustomerUpdate(name="Hacked"), actor=actor, via="t"
        )
    assert (me.tier, other.name) == ("standard", "Other")


def test_leaving_the_company_ends_the_company_admin_role(uow: UnitOfWork) -> None:
    company = make_company(uow)
    customer = make_customer(uow, company=company, is_company_admin=True)
    with pytest.raises(CompanyRequired):
        management.update_customer(
            uow,
            customer_id=customer.id,
            changes=CustomerUpdate(company_id=None, is_company_admin=True),
            actor=SYSTEM,
            via="t",
        )
    management.update_customer(
        uow, customer_id=customer.id, changes=CustomerUpdate(company_id=None), actor=SYSTEM, via="t"
    )
    assert (customer.company_id, customer.is_company_admin) == (None, False)
    assert _changes(uow, customer.id)[-2:] == [
        ("customer.updated", "company_id", company.id, None),
        ("customer.updated", "is_company_admin", True, False),
    ]
