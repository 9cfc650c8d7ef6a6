"""Links between tickets: related, duplicate of, parent of; visibility, loops and the trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.builders import (
    customer_principal,
    make_agent,
    make_customer,
    make_team,
    make_ticket,
    principal_of,
)

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import LinkKind, TicketStatus
from closeloop.tickets.errors import (
    LinkNotAllowed,
    LinkNotFound,
    TicketActionDenied,
    TicketClosed,
    TicketMerged,
    TicketNotFound,
)
from closeloop.tickets.models import Ticket, TicketLink
from closeloop.tickets.schemas import TicketCreate


def _link(
    uow: UnitOfWork, ticket: Ticket, target: Ticket, kind: LinkKind, actor: Principal = SYSTEM
) -> TicketLink:
    return tickets.link_tickets(
        uow, ticket_id=ticket.id, target_ticket_id=target.id, kind=kind, actor=actor, via="test"
    )


def _link_count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(TicketLink)) or 0)


def _link_rows(uow: UnitOfWork, ticket: Ticket) -> list[tuple[str, str | None, Any, Any]]:
    rows = uow.session.execute(
        select(AuditEvent.action, AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value)
        .where(
            AuditEvent.entity_type == "ticket",
            AuditEvent.entity_id == ticket.id,
            AuditEvent.action.in_(["ticket.linked", "ticket.unlinked"]),
        )
        .order_by(AuditEvent.sequence)
    )
    return [tuple(row) for row in rows]


def _tickets(uow: UnitOfWork, count: int, **fields: Any) -> list[Ticket]:
    requester = make_customer(uow)
    return [make_ticket(uow, requester=requester, **fields) for _ in range(count)]


def test_link_is_recorded_on_both_tickets(uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    first, second = _tickets(uow, 2, team_id=team.id)

    link = _link(uow, first, second, LinkKind.duplicate_of, agent)

    assert (link.source_ticket_id, link.target_ticket_id) == (first.id, second.id)
    assert (link.kind, link.created_by_agent_id) == ("duplicate_of", agent.id)
    described = {
        "id": link.id,
        "kind": "duplicate_of",
        "source_ticket_id": first.id,
        "target_ticket_id": second.id,
    }
    assert _link_rows(uow, first) == [("ticket.linked", "link", None, described)]
    assert _link_rows(uow, second) == [("ticket.linked", "link", None, described)]


def test_linking_again_returns_the_existing_link(uow: UnitOfWork) -> None:
    first, second = _tickets(uow, 2)
    link = _link(uow, first, second, LinkKind.related)

    again = _link(uow, first, second, LinkKind.related)
    reverse = _link(uow, second, first, LinkKind.related)

    assert again.id == link.id
    assert reverse.id == link.id
    assert _link_count(uow) == 1
    assert len(_link_rows(uow, first)) == 1


def test_ticket_is_not_linked_to_itself(uow: UnitOfWork) -> None:
    (ticket,) = _tickets(uow, 1)

    with pytest.raises(LinkNotAllowed) as refused:
        _link(uow, ticket, ticket, LinkKind.related)

    assert str(refused.value) == "This link cannot be created: a ticket cannot be linked to itself."
    assert _link_count(uow) == 0


@pytest.mark.parametrize("kind", [LinkKind.follow_up_of, LinkKind.merged_into])
def test_history_kinds_are_not_made_by_hand(uow: UnitOfWork, kind: LinkKind) -> None:
    first, second = _tickets(uow, 2)

    with pytest.raises(LinkNotAllowed):
        _link(uow, first, second, kind)

    assert _link_count(uow) == 0


def test_parent_loop_is_refused(uow: UnitOfWork) -> None:
    top, middle, bottom = _tickets(uow, 3)
    _link(uow, top, middle, LinkKind.parent_of)
    _link(uow, middle, bottom, LinkKind.parent_of)

    with pytest.raises(LinkNotAllowed) as refused:
        _link(uow, bottom, top, LinkKind.parent_of)
    with pytest.raises(LinkNotAllowed):
        _link(uow, middle, top, LinkKind.parent_of)

    assert "loop" in str(refused.value)
    assert _link_count(uow) == 2
    assert [row[0] for row in _link_rows(uow, top)] == ["ticket.linked"]


def test_ticket_has_one_parent(uow: UnitOfWork) -> None:
    parent, other_parent, child = _tickets(uow, 3)
    _link(uow, parent, child, LinkKind.parent_of)

    with pytest.raises(LinkNotAllowed) as refused:
        _link(uow, other_parent, child, LinkKind.parent_of)

    assert str(refused.value) == (
        "This link cannot be created: the other ticket already has a parent."
    )
    assert _link_count(uow) == 1


def test_reverse_duplicate_is_refused(uow: UnitOfWork) -> None:
    first, second = _tickets(uow, 2)
    _link(uow, first, second, LinkKind.duplicate_of)

    with pytest.raises(LinkNotAllowed):
        _link(uow, second, first, LinkKind.duplicate_of)

    assert _link_count(uow) == 1


def test_ticket_the_agent_cannot_read_is_not_found(uow: UnitOfWork) -> None:
    team, other_team = make_team(uow), make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    (mine,) = _tickets(uow, 1, team_id=team.id)
    (theirs,) = _tickets(uow, 1, team_id=other_team.id)

    with pytest.raises(TicketNotFound) as refused:
        _link(uow, mine, theirs, LinkKind.related, agent)

    assert refused.value.params == {"ticket_id": theirs.id}
    assert _link_count(uow) == 0


def test_customer_may_not_link(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    first = make_ticket(uow, requester=requester)
    second = make_ticket(uow, requester=requester)

    with pytest.raises(TicketActionDenied):
        _link(uow, first, second, LinkKind.related, customer_principal(requester))

    assert _link_count(uow) == 0
    assert _link_rows(uow, first) == []


def test_closed_ticket_is_linked_to_but_not_from(uow: UnitOfWork) -> None:
    fresh, old = _tickets(uow, 2)
    old.status = TicketStatus.closed.value

    link = _link(uow, fresh, old, LinkKind.related)
    with pytest.raises(TicketClosed):
        _link(uow, old, fresh, LinkKind.duplicate_of)

    assert link.target_ticket_id == old.id


def test_merged_ticket_is_not_linked(uow: UnitOfWork) -> None:
    survivor, merged, other = _tickets(uow, 3)
    tickets.merge_tickets(
        uow,
        source_ticket_id=merged.id,
        into_ticket_id=survivor.id,
        expected_version=merged.version,
        actor=SYSTEM,
        via="test",
    )

    with pytest.raises(TicketMerged):
        _link(uow, other, merged, LinkKind.related)
    with pytest.raises(TicketMerged):
        _link(uow, merged, other, LinkKind.related)


def test_list_shows_links_whose_other_ticket_is_visible(uow: UnitOfWork) -> None:
    team, other_team = make_team(uow), make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    ticket, neighbour = _tickets(uow, 2, team_id=team.id)
    (elsewhere,) = _tickets(uow, 1, team_id=other_team.id)
    visible = _link(uow, ticket, neighbour, LinkKind.related)
    hidden = _link(uow, elsewhere, ticket, LinkKind.parent_of)

    assert tickets.list_links(uow, ticket_id=ticket.id, actor=agent) == [visible]
    assert tickets.list_links(uow, ticket_id=ticket.id, actor=SYSTEM) == [visible, hidden]


def test_follow_up_link_is_listed_but_not_removed(uow: UnitOfWork) -> None:
    (ticket,) = _tickets(uow, 1)
    ticket.status = TicketStatus.closed.value
    follow_up = tickets.open_follow_up(
        uow,
        closed_ticket_id=ticket.id,
        data=TicketCreate(subject="Again"),
        actor=SYSTEM,
        via="test",
    )
    (link,) = tickets.list_links(uow, ticket_id=follow_up.id, actor=SYSTEM)

    with pytest.raises(LinkNotAllowed):
        tickets.unlink_tickets(
            uow, ticket_id=follow_up.id, link_id=link.id, actor=SYSTEM, via="test"
        )

    assert link.kind == "follow_up_of"
    assert _link_count(uow) == 1


def test_unlink_removes_the_link_and_records_on_both(uow: UnitOfWork) -> None:
    first, second, third = _tickets(uow, 3)
    link = _link(uow, first, second, LinkKind.parent_of)
    described = {
        "id": link.id,
        "kind": "parent_of",
        "source_ticket_id": first.id,
        "target_ticket_id": second.id,
    }

    with pytest.raises(LinkNotFound):
        tickets.unlink_tickets(uow, ticket_id=third.id, link_id=link.id, actor=SYSTEM, via="test")
    tickets.unlink_tickets(uow, ticket_id=second.id, link_id=link.id, actor=SYSTEM, via="test")

    assert _link_count(uow) == 0
    for side in (first, second):
        assert _link_rows(uow, side) == [
            ("ticket.linked", "link", None, described),
            ("ticket.unlinked", "link", described, None),
        ]


def test_customer_may_not_unlink(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    first = make_ticket(uow, requester=requester)
    second = make_ticket(uow, requester=requester)
    link = _link(uow, first, second, LinkKind.related)

    with pytest.raises(TicketActionDenied):
        tickets.unlink_tickets(
            uow,
            ticket_id=first.id,
            link_id=link.id,
            actor=customer_principal(requester),
            via="test",
        )

    assert _link_count(uow) == 1
