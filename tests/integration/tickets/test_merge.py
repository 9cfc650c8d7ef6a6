"""Merging a ticket into another: what moves, what closes, what is refused."""

from __future__ import annotations

import io
from pathlib import Path
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
from tests.conftest import START

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.domain import MessageKind, TicketQuery, TicketStatus
from closeloop.tickets.errors import (
    MergeNotAllowed,
    StaleVersion,
    TicketActionDenied,
    TicketClosed,
    TicketMerged,
    TicketNotFound,
    VersionRequired,
)
from closeloop.tickets.events import StatusChanged, TicketsMerged
from closeloop.tickets.models import Message, Ticket, TicketFollower, TicketTag
from closeloop.tickets.schemas import MessageCreate, TicketUpdate


def _merge(
    uow: UnitOfWork,
    source: Ticket,
    survivor: Ticket,
    actor: Principal = SYSTEM,
    version: int | None = -1,
) -> Ticket:
    return tickets.merge_tickets(
        uow,
        source_ticket_id=source.id,
        into_ticket_id=survivor.id,
        expected_version=source.version if version == -1 else version,
        actor=actor,
        via="test",
    )


def _post(uow: UnitOfWork, ticket: Ticket, actor: Principal, body: str, **extra: Any) -> Message:
    return tickets.add_message(
        uow, ticket_id=ticket.id, data=MessageCreate(body=body, **extra), actor=actor, via="test"
    )


def _merge_rows(uow: UnitOfWork, ticket: Ticket) -> list[tuple[str | None, Any, Any]]:
    rows = uow.session.execute(
        select(AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value)
        .where(
            AuditEvent.entity_type == "ticket",
            AuditEvent.entity_id == ticket.id,
            AuditEvent.action == "ticket.merged",
        )
        .order_by(AuditEvent.sequence)
    )
    return [tuple(row) for row in rows]


def _search(uow: UnitOfWork, words: str) -> list[int]:
    page = tickets.list_tickets(uow, query=TicketQuery(text=words), actor=SYSTEM)
    return [t.id for t in page.items]


def test_merge_moves_the_conversation_and_closes_the_source(
    uow: UnitOfWork, bus: EventBus, tmp_path: Path
) -> None:
    team = make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    requester = make_customer(uow)
    customer = customer_principal(requester)
    survivor = make_ticket(
        uow, requester=requester, team_id=team.id, subject="Network down", tags=["network"]
    )
    source = make_ticket(
        uow,
        requester=requester,
        team_id=team.id,
        subject="VPN drops",
        description="Since Monday",
        tags=["vpn", "network"],
    )
    _post(uow, survivor, customer, "The office is offline")
    store = AttachmentStore(tmp_path)
    upload = tickets.upload_attachment(
        uow,
        ticket_id=source.id,
        filename="trace.txt",
        content_type="text/plain",
        stream=io.BytesIO(b"traceroute"),
        store=store,
        max_bytes=1024,
        blocked_extensions=(),
        actor=customer,
        via="test",
    )
    _post(uow, source, customer, "The printer fails too", attachment_ids=[upload.id])
    _post(uow, source, agent, "Checking the tunnel", kind=MessageKind.internal_note)
    assert _search(uow, "printer") == [source.id]
    events: list[object] = []
    bus.subscribe(TicketsMerged, events.append)
    bus.subscribe(StatusChanged, events.append)

    result = _merge(uow, source, survivor, agent)
    uow.commit()

    assert result is survivor
    assert (source.status, source.merged_into_id, source.closed_at) == (
        "closed",
        survivor.id,
        START,
    )
    thread = tickets.list_messages(uow, ticket_id=survivor.id, actor=agent)
    heading = _("{number} «{subject}» was merged into this ticket.").render(
        agent.locale, number=format_ticket_number(source.id), subject="VPN drops"
    )
    assert [(m.body_text, m.original_ticket_id, [a.id for a in a_]) for m, a_ in thread] == [
        ("The office is offline", None, []),
        ("The printer fails too", source.id, [upload.id]),
        ("Checking the tunnel", source.id, []),
        (f"{heading}\n\nSince Monday", None, []),
    ]
    assert thread[-1][0].kind == "internal_note"
    assert tickets.list_messages(uow, ticket_id=source.id, actor=agent) == []
    assert survivor.tags == ["network", "vpn"]
    assert sorted(
        uow.session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == survivor.id))
    ) == ["network", "vpn"]
    (link,) = tickets.list_links(uow, ticket_id=survivor.id, actor=agent)
    assert (link.source_ticket_id, link.target_ticket_id, link.kind) == (
        source.id,
        survivor.id,
        "merged_into",
    )
    assert _merge_rows(uow, source) == [
        ("status", "new", "closed"),
        ("merged_into_id", None, survivor.id),
    ]
    assert _merge_rows(uow, survivor) == [
        ("merged_from", None, {"ticket_id": source.id, "messages": 2}),
        ("tags", ["network"], ["network", "vpn"]),
    ]
    assert _search(uow, "printer") == [survivor.id]
    assert _search(uow, "vpn") == [source.id]
    assert events == [
        StatusChanged(ticket_id=source.id, old_status="new", new_status="closed"),
        TicketsMerged(source_ticket_id=source.id, survivor_ticket_id=survivor.id),
    ]


def test_merged_ticket_still_reads_but_no_longer_changes(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    survivor = make_ticket(uow, requester=requester)
    source = make_ticket(uow, requester=requester)
    _merge(uow, source, survivor)

    read = tickets.get_ticket(uow, ticket_id=source.id, actor=customer_principal(requester))
    with pytest.raises(TicketMerged) as refused:
        tickets.update_fields(
            uow,
            ticket_id=source.id,
            data=TicketUpdate(subject="Changed"),
            expected_version=source.version,
            actor=SYSTEM,
            via="test",
        )

    assert read.merged_into_id == survivor.id
    assert refused.value.code == "ticket.merged"


def test_followers_are_united_and_the_other_requester_follows(uow: UnitOfWork) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    colleague = make_customer(uow, company=company)
    cc = make_customer(uow, company=company)
    agent, watcher = make_agent(uow), make_agent(uow)
    survivor = make_ticket(uow, requester=requester)
    source = make_ticket(uow, requester=colleague)
    make_follower(uow, survivor, agent=agent)
    make_follower(uow, source, agent=agent)
    make_follower(uow, source, agent=watcher)
    make_follower(uow, source, customer=cc)
    make_follower(uow, source, customer=requester)

    _merge(uow, source, survivor)

    followers = tickets.list_followers(uow, ticket_id=survivor.id, actor=SYSTEM)
    assert [(f.agent_id, f.customer_id) for f in followers] == [
        (agent.id, None),
        (watcher.id, None),
        (None, cc.id),
        (None, colleague.id),
    ]
    assert (
        tickets.get_ticket(uow, ticket_id=survivor.id, actor=customer_principal(colleague))
        is survivor
    )


def test_requesters_of_different_companies_are_not_merged(uow: UnitOfWork) -> None:
    survivor = make_ticket(uow, requester=make_customer(uow, company=make_company(uow)))
    source = make_ticket(uow, requester=make_customer(uow, company=make_company(uow)))
    _post(uow, source, SYSTEM, "Reply")

    with pytest.raises(MergeNotAllowed) as refused:
        _merge(uow, source, survivor)

    assert str(refused.value).endswith("the requesters belong to different companies.")
    assert (source.status, source.merged_into_id) == ("in_progress", None)
    assert len(tickets.list_messages(uow, ticket_id=source.id, actor=SYSTEM)) == 1
    assert _merge_rows(uow, source) == []


def test_merge_needs_the_current_version_of_the_source(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    survivor = make_ticket(uow, requester=requester)
    source = make_ticket(uow, requester=requester)

    with pytest.raises(VersionRequired):
        _merge(uow, source, survivor, version=None)
    with pytest.raises(StaleVersion):
        _merge(uow, source, survivor, version=source.version + 1)

    assert source.merged_into_id is None


@pytest.mark.parametrize("case", ["itself", "closed_target", "merged_target"])
def test_merge_target_must_be_another_open_ticket(uow: UnitOfWork, case: str) -> None:
    requester = make_customer(uow)
    source = make_ticket(uow, requester=requester)
    target = make_ticket(uow, requester=requester)
    if case == "itself":
        target = source
    elif case == "closed_target":
        target.status = TicketStatus.closed.value
    else:
        _merge(uow, target, make_ticket(uow, requester=requester))

    with pytest.raises(MergeNotAllowed):
        _merge(uow, source, target)

    assert source.merged_into_id is None


def test_closed_or_merged_source_is_not_merged(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    survivor = make_ticket(uow, requester=requester)
    closed = make_ticket(uow, requester=requester)
    closed.status = TicketStatus.closed.value
    merged = make_ticket(uow, requester=requester)
    _merge(uow, merged, make_ticket(uow, requester=requester))

    with pytest.raises(TicketClosed):
        _merge(uow, closed, survivor)
    with pytest.raises(TicketMerged):
        _merge(uow, merged, survivor)


def test_customer_may_not_merge(uow: UnitOfWork) -> None:
    requester = make_customer(uow)
    survivor = make_ticket(uow, requester=requester)
    source = make_ticket(uow, requester=requester)
    _post(uow, source, customer_principal(requester), "Hello")

    with pytest.raises(TicketActionDenied):
        _merge(uow, source, survivor, customer_principal(requester))

    assert (source.status, source.merged_into_id) == ("new", None)
    assert len(tickets.list_messages(uow, ticket_id=source.id, actor=SYSTEM)) == 1


def test_agent_may_not_merge_into_a_ticket_they_cannot_read(uow: UnitOfWork) -> None:
    team, other_team = make_team(uow), make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    requester = make_customer(uow)
    source = make_ticket(uow, requester=requester, team_id=team.id)
    hidden = make_ticket(uow, requester=requester, team_id=other_team.id)

    with pytest.raises(TicketNotFound) as refused:
        _merge(uow, source, hidden, agent)

    assert refused.value.params == {"ticket_id": hidden.id}
    assert source.merged_into_id is None


def test_source_follower_outside_the_company_does_not_follow_the_survivor(
    uow: UnitOfWork,
) -> None:
    company = make_company(uow)
    requester = make_customer(uow, company=company)
    outsider = make_customer(uow, company=make_company(uow))
    survivor = make_ticket(uow, requester=requester)
    source = make_ticket(uow, requester=requester)
    # As a channel might have written it, without the follower rule.
    uow.session.add(TicketFollower(ticket_id=source.id, customer_id=outsider.id, created_at=START))
    uow.session.flush()

    _merge(uow, source, survivor)

    assert tickets.list_followers(uow, ticket_id=survivor.id, actor=SYSTEM) == []
    with pytest.raises(TicketNotFound):
        tickets.get_ticket(uow, ticket_id=survivor.id, actor=customer_principal(outsider))
