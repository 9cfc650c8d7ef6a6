"""Followers (CC): who may follow, who may add and remove them, what they are told."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.builders import (
    customer_principal,
    make_agent,
    make_company,
    make_customer,
    make_follower,
    make_team,
    make_ticket,
    principal_of,
)

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.accounts.errors import AgentNotFound
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import MessageKind, TicketStatus
from closeloop.tickets.errors import (
    FollowerNotAllowed,
    FollowerNotFound,
    FollowerOfOtherCompany,
    TicketActionDenied,
    TicketClosed,
    TicketNotFound,
)
from closeloop.tickets.events import MessageAdded
from closeloop.tickets.models import Ticket, TicketFollower
from closeloop.tickets.schemas import MessageCreate


def _add(
    uow: UnitOfWork,
    ticket: Ticket,
    actor: Principal,
    *,
    agent_id: int | None = None,
    customer_id: int | None = None,
) -> TicketFollower:
    return tickets.add_follower(
        uow,
        ticket_id=ticket.id,
        agent_id=agent_id,
        customer_id=customer_id,
        actor=actor,
        via="test",
    )


def _remove(uow: UnitOfWork, ticket: Ticket, follower: TicketFollower, actor: Principal) -> None:
    tickets.remove_follower(
        uow, ticket_id=ticket.id, follower_id=follower.id, actor=actor, via="test"
    )


def _pairs(uow: UnitOfWork, ticket: Ticket, actor: Principal = SYSTEM) -> list[tuple[Any, Any]]:
    followers = tickets.list_followers(uow, ticket_id=ticket.id, actor=actor)
    return [(f.agent_id, f.customer_id) for f in followers]


def _follower_rows(uow: UnitOfWork, ticket: Ticket) -> list[tuple[str, Any, Any, bool]]:
    rows = uow.session.execute(
        select(AuditEvent.action, AuditEvent.old_value, AuditEvent.new_value, AuditEvent.is_public)
        .where(
            AuditEvent.entity_type == "ticket",
            AuditEvent.entity_id == ticket.id,
            AuditEvent.action.in_(["follower.added", "follower.removed"]),
        )
        .order_by(AuditEvent.sequence)
    )
    return [tuple(row) for row in rows]


def test_agent_of_another_team_follows_and_then_reads(uow: UnitOfWork) -> None:
    team, other_team = make_team(uow), make_team(uow)
    owner = principal_of(uow, make_agent(uow, teams=[team]))
    outsider_agent = make_agent(uow, teams=[other_team])
    outsider = principal_of(uow, outsider_agent)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    with pytest.raises(TicketNotFound):
        tickets.get_ticket(uow, ticket_id=ticket.id, actor=outsider)

    follower = _add(uow, ticket, owner, agent_id=outsider_agent.id)

    assert tickets.get_ticket(uow, ticket_id=ticket.id, actor=outsider) is ticket
    assert _follower_rows(uow, ticket) == [
        (
            "follower.added",
            None,
            {"id": follower.id, "agent_id": outsider_agent.id, "customer_id": None},
            False,
        ),
    ]


def test_colleague_and_private_address_follow_but_not_another_company(uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    private = make_customer(uow)
    stranger = make_customer(uow, name="Zhang Wei", company=make_company(uow))
    ticket = make_ticket(uow, requester=requester)

    _add(uow, ticket, SYSTEM, customer_id=colleague.id)
    _add(uow, ticket, SYSTEM, customer_id=private.id)
    with pytest.raises(FollowerOfOtherCompany) as refused:
        _add(uow, ticket, SYSTEM, customer_id=stranger.id)

    assert refused.value.http_status == 422
    assert refused.value.code == "ticket.follower_other_company"
    assert str(refused.value) == (
        f"Zhang Wei belongs to another company than the requester of ticket TK-{ticket.id:06d}, "
        "so they cannot follow it. Add colleagues of the requester only."
    )
    assert _pairs(uow, ticket) == [(None, colleague.id), (None, private.id)]


def test_requester_is_not_made_a_follower(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    ticket = make_ticket(uow, requester=requester)

    with pytest.raises(FollowerNotAllowed):
        _add(uow, ticket, SYSTEM, customer_id=requester.id)

    assert _pairs(uow, ticket) == []


def test_adding_a_follower_again_returns_the_same_row(uow: UnitOfWork) -> None:
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=make_customer(uow))
    first = _add(uow, ticket, SYSTEM, agent_id=agent.id)

    again = _add(uow, ticket, SYSTEM, agent_id=agent.id)

    assert again.id == first.id
    assert len(_follower_rows(uow, ticket)) == 1


def test_inactive_agent_does_not_follow(uow: UnitOfWork) -> None:
    agent = make_agent(uow)
    agent.is_active = False
    ticket = make_ticket(uow, requester=make_customer(uow))

    with pytest.raises(AgentNotFound):
        _add(uow, ticket, SYSTEM, agent_id=agent.id)


def test_closed_ticket_gets_no_new_followers(uow: UnitOfWork) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))
    ticket.status = TicketStatus.closed.value

    with pytest.raises(TicketClosed):
        _add(uow, ticket, SYSTEM, agent_id=make_agent(uow).id)


def test_requester_adds_colleagues_only(uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    private = make_customer(uow)
    stranger = make_customer(uow, company=make_company(uow))
    ticket = make_ticket(uow, requester=requester)
    actor = customer_principal(requester)

    follower = _add(uow, ticket, actor, customer_id=colleague.id)
    with pytest.raises(TicketActionDenied):
        _add(uow, ticket, actor, agent_id=make_agent(uow).id)
    for refused_id in (private.id, stranger.id, stranger.id + 1000):
        with pytest.raises(FollowerNotAllowed) as refused:
            _add(uow, ticket, actor, customer_id=refused_id)
        assert str(refused.value) == (
            f"This person cannot follow ticket TK-{ticket.id:06d}: "
            "you may add colleagues of your company only."
        )

    assert _pairs(uow, ticket) == [(None, colleague.id)]
    assert _follower_rows(uow, ticket)[0][3] is True
    assert follower.customer_id == colleague.id


def test_customer_who_is_not_the_requester_adds_nobody(uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    third = make_customer(uow, company=company)
    ticket = make_ticket(uow, requester=requester)
    make_follower(uow, ticket, customer=colleague)

    with pytest.raises(TicketActionDenied):
        _add(uow, ticket, customer_principal(colleague), customer_id=third.id)

    assert _pairs(uow, ticket) == [(None, colleague.id)]


def test_customers_see_only_the_customers_among_followers(uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=requester)
    make_follower(uow, ticket, agent=agent)
    make_follower(uow, ticket, customer=colleague)

    assert _pairs(uow, ticket) == [(agent.id, None), (None, colleague.id)]
    assert _pairs(uow, ticket, customer_principal(requester)) == [(None, colleague.id)]


def test_removing_an_agent_follower_takes_away_reading(uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    follower = make_follower(uow, ticket, agent=agent)

    _remove(uow, ticket, follower, SYSTEM)

    with pytest.raises(TicketNotFound):
        tickets.get_ticket(uow, ticket_id=ticket.id, actor=principal_of(uow, agent))
    assert _pairs(uow, ticket) == []
    assert [row[0] for row in _follower_rows(uow, ticket)] == ["follower.added", "follower.removed"]


def test_customers_remove_themselves_and_the_requester_removes_colleagues(
    uow: UnitOfWork,
) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    first, second = make_customer(uow, company=company), make_customer(uow, company=company)
    agent = make_agent(uow)
    ticket = make_ticket(uow, requester=requester)
    agent_follower = make_follower(uow, ticket, agent=agent)
    first_follower = make_follower(uow, ticket, customer=first)
    second_follower = make_follower(uow, ticket, customer=second)

    with pytest.raises(TicketActionDenied):
        _remove(uow, ticket, second_follower, customer_principal(first))
    with pytest.raises(FollowerNotFound):
        _remove(uow, ticket, agent_follower, customer_principal(requester))
    _remove(uow, ticket, first_follower, customer_principal(first))
    _remove(uow, ticket, second_follower, customer_principal(requester))

    assert _pairs(uow, ticket) == [(agent.id, None)]


def test_follower_of_another_ticket_is_not_found(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    ticket, other = make_ticket(uow, requester=requester), make_ticket(uow, requester=requester)
    follower = make_follower(uow, other, agent=make_agent(uow))

    with pytest.raises(FollowerNotFound):
        _remove(uow, ticket, follower, SYSTEM)

    assert _pairs(uow, other) == [(follower.agent_id, None)]


def test_followers_are_told_of_public_posts_and_agents_of_notes(
    uow: UnitOfWork, bus: EventBus
) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    watcher, author = make_agent(uow), make_agent(uow)
    ticket = make_ticket(uow, requester=requester)
    make_follower(uow, ticket, agent=watcher)
    make_follower(uow, ticket, agent=author)
    make_follower(uow, ticket, customer=colleague)
    uow.commit()
    told: list[MessageAdded] = []
    bus.subscribe(MessageAdded, told.append)

    for kind in (MessageKind.internal_note, MessageKind.public_reply):
        tickets.add_message(
            uow,
            ticket_id=ticket.id,
            data=MessageCreate(kind=kind, body=f"A {kind.value}"),
            actor=principal_of(uow, author),
            via="test",
        )
    uow.commit()

    assert [(e.kind, e.agent_follower_ids, e.customer_follower_ids) for e in told] == [
        ("internal_note", (watcher.id,), ()),
        ("public_reply", (watcher.id,), (colleague.id,)),
    ]
