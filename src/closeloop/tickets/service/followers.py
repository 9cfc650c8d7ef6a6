"""Followers (CC): agents of any team and the requester's colleagues, kept informed.

An agent follower may read the ticket (``repository.visible_to``). A customer follower is a
colleague of the requester (same company) or a private address without a company, such as the
requester's own CC; a customer of another company never follows, since following grants reading.
Agents manage followers; the requester may add and remove colleagues of their company; any
customer follower may stop following. Adding an existing follower returns it unchanged.
"""

from __future__ import annotations

from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import CustomerNotFound
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import permissions, repository
from closeloop.tickets.errors import (
    FollowerNotAllowed,
    FollowerNotFound,
    FollowerOfOtherCompany,
    TicketActionDenied,
)
from closeloop.tickets.models import Ticket, TicketFollower
from closeloop.tickets.service._common import load_for_change, load_visible, record


def add_follower(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    actor: Principal,
    via: str,
    agent_id: int | None = None,
    customer_id: int | None = None,
) -> TicketFollower:
    if (agent_id is None) == (customer_id is None):
        raise ValidationFailed(
            errors=[
                {
                    "field": "agent_id",
                    "code": "exactly_one",
                    "message": "Give exactly one of agent_id or customer_id.",
                }
            ]
        )
    ticket = load_for_change(uow, ticket_id, actor, expected_version=None, require_version=False)
    if not _may_add(actor, ticket, is_agent_follower=agent_id is not None):
        raise TicketActionDenied(action=_("add followers"))
    if agent_id is not None:
        accounts.active_agent(uow, agent_id)
    else:
        assert customer_id is not None
        check_customer_follower(uow, ticket, customer_id, added_by=actor)
    existing = repository.follower_of(
        uow.session, ticket.id, agent_id=agent_id, customer_id=customer_id
    )
    if existing is not None:
        return existing
    follower = TicketFollower(
        ticket_id=ticket.id,
        agent_id=agent_id,
        customer_id=customer_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(follower)
    uow.session.flush()
    record(
        uow,
        ticket,
        action="follower.added",
        actor=actor,
        via=via,
        changes=[Change("follower", None, _describe(follower))],
        is_public=follower.customer_id is not None,
    )
    return follower


def remove_follower(
    uow: UnitOfWork, *, ticket_id: int, follower_id: int, actor: Principal, via: str
) -> None:
    ticket = load_visible(uow, ticket_id, actor)
    follower = repository.follower_by_id(uow.session, follower_id)
    if follower is None or follower.ticket_id != ticket.id or not _may_see(actor, follower):
        raise FollowerNotFound(number=format_ticket_number(ticket.id), follower_id=follower_id)
    if not _may_remove(actor, ticket, follower):
        raise TicketActionDenied(action=_("remove followers"))
    ticket = load_for_change(uow, ticket.id, actor, expected_version=None, require_version=False)
    described = _describe(follower)
    uow.session.delete(follower)
    uow.session.flush()
    record(
        uow,
        ticket,
        action="follower.removed",
        actor=actor,
        via=via,
        changes=[Change("follower", described, None)],
        is_public=described["customer_id"] is not None,
    )


def list_followers(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> list[TicketFollower]:
    """Staff see every follower; customers see the customers among them."""
    ticket = load_visible(uow, ticket_id, actor)
    return [f for f in repository.followers_of(uow.session, ticket.id) if _may_see(actor, f)]


def check_customer_follower(
    uow: UnitOfWork, ticket: Ticket, customer_id: int, *, added_by: Principal
) -> None:
    """Refuse a customer who may not follow ``ticket`` (merging uses the same rule)."""
    number = format_ticket_number(ticket.id)
    if added_by.is_customer:
        # One answer for strangers, customers of other companies and unknown ids: a customer
        # learns nothing about who exists elsewhere.
        try:
            candidate = accounts.get_customer(uow, customer_id)
        except CustomerNotFound:
            candidate = None
        if (
            candidate is None
            or candidate.company_id is None
            or (candidate.company_id != added_by.company_id)
        ):
            raise FollowerNotAllowed(
                number=number, reason=_("you may add colleagues of your company only.")
            )
    customer = accounts.get_customer(uow, customer_id)
    if customer.id == ticket.requester_id:
        raise FollowerNotAllowed(
            number=number, reason=_("the requester is told of every update already.")
        )
    requester = accounts.get_customer(uow, ticket.requester_id)
    if customer.company_id is not None and customer.company_id != requester.company_id:
        raise FollowerOfOtherCompany(name=customer.name, number=number)


# --- who may do what (the follower rules; the rest of the ticket's rules are in permissions) --


def _may_add(actor: Principal, ticket: Ticket, *, is_agent_follower: bool) -> bool:
    if permissions.can_manage_followers(actor):
        return True
    return actor.is_customer and actor.id == ticket.requester_id and not is_agent_follower


def _may_remove(actor: Principal, ticket: Ticket, follower: TicketFollower) -> bool:
    if permissions.can_manage_followers(actor):
        return True
    if not actor.is_customer or follower.customer_id is None:
        return False
    return follower.customer_id == actor.id or actor.id == ticket.requester_id


def _may_see(actor: Principal, follower: TicketFollower) -> bool:
    return permissions.can_see_internal(actor) or follower.customer_id is not None


def _describe(follower: TicketFollower) -> dict[str, Any]:
    return {"id": follower.id, "agent_id": follower.agent_id, "customer_id": follower.customer_id}
