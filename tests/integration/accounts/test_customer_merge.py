"""Merging two customers: tickets, followers and identities move; the merged one is history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.builders import (
    bearer,
    make_agent,
    make_company,
    make_customer,
    make_follower,
    make_ticket,
    principal_of,
)

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.accounts.errors import CustomerMerged, CustomerMergeRefused, CustomerNotFound
from closeloop.accounts.events import CustomersMerged
from closeloop.accounts.models import ApiToken
from closeloop.accounts.schemas import CustomerUpdate
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.kit.events import EventBus
from closeloop.tickets.models import Ticket, TicketFollower
from closeloop.wiring import subscribe_customer_reactions


@pytest.fixture(autouse=True)
def _reactions(bus: EventBus) -> None:
    subscribe_customer_reactions(bus)


@pytest.fixture
def agent(uow: UnitOfWork) -> Principal:
    return principal_of(uow, make_agent(uow))


def _audit(uow: UnitOfWork, entity_type: str, entity_id: int) -> list[AuditEvent]:
    return list(
        uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.sequence)
        )
    )


def test_tickets_followers_and_identities_move_to_the_survivor(
    uow: UnitOfWork, agent: Principal
) -> None:
    company = make_company(uow)
    survivor = make_customer(uow, email="li.lei@example.cn", company=company)
    caller = accounts.create_customer(
        uow,
        name="+8613800138000",
        identities=[(IdentityKind.phone, "138 0013 8000")],
        actor=SYSTEM,
        via="test",
    )
    requested = [make_ticket(uow, requester=caller) for _ in range(2)]
    other = make_ticket(uow, requester=make_customer(uow))
    followed = make_follower(uow, other, customer=caller)
    both = make_ticket(uow, requester=make_customer(uow, company=company))
    make_follower(uow, both, customer=caller)
    make_follower(uow, both, customer=survivor)
    versions = {t.id: t.version for t in requested}
    uow.commit()

    result = management.merge_customers(
        uow, customer_id=caller.id, into_customer_id=survivor.id, actor=agent, via="test"
    )
    uow.commit()

    assert result.id == survivor.id
    assert caller.merged_into_id == survivor.id
    for ticket in requested:
        uow.session.refresh(ticket)
        assert ticket.requester_id == survivor.id
        assert ticket.company_id == company.id
        assert ticket.version == versions[ticket.id] + 1
    uow.session.refresh(followed)
    assert followed.customer_id == survivor.id
    on_both = uow.session.scalars(
        select(TicketFollower.customer_id).where(TicketFollower.ticket_id == both.id)
    ).all()
    assert on_both == [survivor.id]
    identities = {
        (i.kind, i.value, i.is_primary) for i in accounts.identities_of(uow, [survivor.id])
    }
    assert identities == {("email", "li.lei@example.cn", True), ("phone", "+8613800138000", True)}
    assert accounts.identities_of(uow, [caller.id]) == []
    # Identity lookups find the survivor only.
    found = accounts.find_customer_by_identity(uow, IdentityKind.phone, "+86 138 0013 8000")
    assert found is not None
    assert found.id == survivor.id
    page = management.search_customers(uow, text=caller.name, actor=agent)
    assert caller.id not in [c.id for c in page.items]
    # Audit on both customers and on each ticket touched.
    source_audit = _audit(uow, "customer", caller.id)
    assert [(e.action, e.field) for e in source_audit[-2:]] == [
        ("customer.merged", "merged_into_id"),
        ("customer.merged", "identities"),
    ]
    assert source_audit[-1].actor_id == agent.id
    survivor_audit = _audit(uow, "customer", survivor.id)
    assert survivor_audit[-1].action == "customer.merged"
    assert survivor_audit[-1].new_value == {
        "customer_id": caller.id,
        "identities": [{"kind": "phone", "value": "+8613800138000"}],
    }
    for ticket in (*requested, other, both):
        assert _audit(uow, "ticket", ticket.id)[-1].action == "ticket.customer_merged"


def test_the_survivor_keeps_its_profile_and_fills_what_it_lacks(
    uow: UnitOfWork, agent: Principal
) -> None:
    company = make_company(uow)
    survivor = make_customer(uow, name="Li Lei")
    source = make_customer(uow, name="Caller", company=company, tier="vip")
    management.update_customer(
        uow,
        customer_id=source.id,
        changes=CustomerUpdate(locale="en", notes="Prefers calls."),
        actor=SYSTEM,
        via="test",
    )
    management.merge_customers(
        uow, customer_id=source.id, into_customer_id=survivor.id, actor=agent, via="test"
    )
    assert (survivor.name, survivor.company_id, survivor.tier) == ("Li Lei", company.id, "vip")
    assert (survivor.locale, survivor.notes) == ("en", "Prefers calls.")
    kept = make_company(uow)
    second = make_customer(uow, company=kept)
    third = make_customer(uow, company=company)
    management.merge_customers(
        uow, customer_id=third.id, into_customer_id=second.id, actor=agent, via="test"
    )
    assert second.company_id == kept.id


def test_the_event_tells_others(uow: UnitOfWork, agent: Principal, bus: EventBus) -> None:
    seen: list[CustomersMerged] = []
    bus.subscribe(CustomersMerged, seen.append)
    source, survivor = make_customer(uow), make_customer(uow)
    management.merge_customers(
        uow, customer_id=source.id, into_customer_id=survivor.id, actor=agent, via="api:test"
    )
    uow.commit()
    assert [(e.source_customer_id, e.survivor_customer_id, e.via) for e in seen] == [
        (source.id, survivor.id, "api:test")
    ]


def test_the_merged_customer_can_no_longer_sign_in_or_change(
    uow: UnitOfWork, agent: Principal
) -> None:
    source, survivor = make_customer(uow), make_customer(uow)
    email = accounts.identities_of(uow, [source.id])[0].value
    token = bearer(uow, email)["Authorization"].removeprefix("Bearer ")
    assert accounts.principal_for_token(uow, token) is not None
    management.merge_customers(
        uow, customer_id=source.id, into_customer_id=survivor.id, actor=agent, via="test"
    )
    assert accounts.principal_for_token(uow, token) is None
    assert accounts.principal_for_customer_id(uow, source.id) is None
    revoked = uow.session.scalars(select(ApiToken).where(ApiToken.customer_id == source.id)).one()
    assert revoked.revoked_at is not None
    with pytest.raises(CustomerMerged):
        management.update_customer(
            uow,
            customer_id=source.id,
            changes=CustomerUpdate(name="Back"),
            actor=agent,
            via="test",
        )
    with pytest.raises(CustomerMerged):
        management.add_customer_identity(
            uow,
            customer_id=source.id,
            kind=IdentityKind.email,
            value="again@example.cn",
            actor=agent,
            via="test",
        )


def test_refusals(uow: UnitOfWork, agent: Principal) -> None:
    first, second, third = make_customer(uow), make_customer(uow), make_customer(uow)
    with pytest.raises(CustomerMergeRefused, match="cannot be merged into itself"):
        management.merge_customers(
            uow, customer_id=first.id, into_customer_id=first.id, actor=agent, via="test"
        )
    management.merge_customers(
        uow, customer_id=second.id, into_customer_id=third.id, actor=agent, via="test"
    )
    with pytest.raises(CustomerMergeRefused, match="itself merged into another"):
        management.merge_customers(
            uow, customer_id=first.id, into_customer_id=second.id, actor=agent, via="test"
        )
    with pytest.raises(CustomerMergeRefused, match="already merged"):
        management.merge_customers(
            uow, customer_id=second.id, into_customer_id=first.id, actor=agent, via="test"
        )
    with pytest.raises(CustomerNotFound):
        management.merge_customers(
            uow, customer_id=first.id, into_customer_id=999_999, actor=agent, via="test"
        )


def test_customers_may_not_merge(uow: UnitOfWork) -> None:
    first, second = make_customer(uow), make_customer(uow)
    me = accounts.principal_for_customer(first)
    with pytest.raises(CustomerNotFound):
        management.merge_customers(
            uow, customer_id=first.id, into_customer_id=second.id, actor=me, via="test"
        )
    with pytest.raises(PermissionDenied):
        management.merge_customers(
            uow, customer_id=first.id, into_customer_id=first.id, actor=me, via="test"
        )


def test_a_refused_merge_changes_nothing(uow: UnitOfWork, agent: Principal) -> None:
    source = make_customer(uow)
    ticket = make_ticket(uow, requester=source)
    uow.commit()
    with pytest.raises(CustomerMergeRefused):
        management.merge_customers(
            uow, customer_id=source.id, into_customer_id=source.id, actor=agent, via="test"
        )
    uow.rollback()
    assert uow.session.get(Ticket, ticket.id).requester_id == source.id  # type: ignore[union-attr]
