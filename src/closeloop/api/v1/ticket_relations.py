"""A ticket's relations over JSON: links to other tickets, merging, followers (CC)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from closeloop.api.deps import CurrentPrincipal, IfMatch, Uow, Via, expected_version
from closeloop.tickets import service as tickets
from closeloop.tickets.schemas import (
    FollowerCreate,
    FollowerRead,
    LinkCreate,
    LinkRead,
    MergeCreate,
    TicketRead,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("/{ticket_id}/links", response_model=list[LinkRead])
def list_links(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> list[LinkRead]:
    """Links whose other ticket you may read."""
    return [LinkRead.of(link) for link in tickets.list_links(uow, ticket_id=ticket_id, actor=actor)]


@router.post("/{ticket_id}/links", status_code=201, response_model=LinkRead)
def create_link(
    ticket_id: int, data: LinkCreate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> LinkRead:
    """Agents link this ticket to another: related, duplicate_of or parent_of. Linking again
    returns the existing link."""
    link = tickets.link_tickets(
        uow,
        ticket_id=ticket_id,
        target_ticket_id=data.target_ticket_id,
        kind=data.kind,
        actor=actor,
        via=via,
    )
    uow.commit()
    return LinkRead.of(link)


@router.delete("/{ticket_id}/links/{link_id}", status_code=204)
def delete_link(
    ticket_id: int, link_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    tickets.unlink_tickets(uow, ticket_id=ticket_id, link_id=link_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post("/{ticket_id}/merge", response_model=TicketRead)
def merge_ticket(
    ticket_id: int,
    data: MergeCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    if_match: IfMatch = None,
) -> TicketRead:
    """Agents merge this ticket into ``into_ticket_id``. Send this ticket's ``version`` (or
    If-Match). Answers with the surviving ticket."""
    survivor = tickets.merge_tickets(
        uow,
        source_ticket_id=ticket_id,
        into_ticket_id=data.into_ticket_id,
        expected_version=expected_version(data.version, if_match),
        actor=actor,
        via=via,
    )
    uow.commit()
    return TicketRead.of(survivor)


@router.get("/{ticket_id}/followers", response_model=list[FollowerRead])
def list_followers(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> list[FollowerRead]:
    """Staff see every follower, customers the customers among them."""
    return [
        FollowerRead.model_validate(follower, from_attributes=True)
        for follower in tickets.list_followers(uow, ticket_id=ticket_id, actor=actor)
    ]


@router.post("/{ticket_id}/followers", status_code=201, response_model=FollowerRead)
def add_follower(
    ticket_id: int, data: FollowerCreate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> FollowerRead:
    """Agents add an agent of any team or a colleague of the requester; the requester adds
    colleagues. Adding again returns the existing follower."""
    follower = tickets.add_follower(
        uow,
        ticket_id=ticket_id,
        agent_id=data.agent_id,
        customer_id=data.customer_id,
        actor=actor,
        via=via,
    )
    uow.commit()
    return FollowerRead.model_validate(follower, from_attributes=True)


@router.delete("/{ticket_id}/followers/{follower_id}", status_code=204)
def remove_follower(
    ticket_id: int, follower_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    """Agents remove anyone; the requester removes customers; a customer unfollows."""
    tickets.remove_follower(uow, ticket_id=ticket_id, follower_id=follower_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
