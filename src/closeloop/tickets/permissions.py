"""The single place that decides who may do what to a ticket.

Reading is decided by ``repository.visible_to`` (a ticket you may not read does not exist for
you); the functions here decide the actions on a ticket the caller can already read.
"""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.tickets.domain import MessageKind, TicketStatus, customer_may_transition
from closeloop.tickets.models import Ticket


def can_edit_fields(principal: Principal) -> bool:
    """Agents (of any role) change fields of tickets they can read; customers never do."""
    return principal.is_agent or principal.is_admin


def can_post(principal: Principal, kind: MessageKind) -> bool:
    if principal.is_customer:
        return kind is MessageKind.customer_message
    return kind in (MessageKind.public_reply, MessageKind.internal_note)


def can_transition(principal: Principal, ticket: Ticket, target: TicketStatus) -> bool:
    if principal.is_customer:
        return customer_may_transition(TicketStatus(ticket.status), target)
    return True


def can_assign(
    principal: Principal, ticket: Ticket, *, team_id: int | None, assignee_id: int | None
) -> bool:
    """Supervisors and admins assign anything. An agent takes work for themselves, hands a
    ticket over to another team, or, as a team's lead, assigns within that team."""
    if principal.sees_all_tickets:
        return True
    if not principal.is_agent:
        return False
    if assignee_id is None or assignee_id == principal.id:
        return True
    if ticket.assignee_id == assignee_id and team_id == ticket.team_id:
        return True
    return team_id is not None and team_id in principal.led_team_ids


def can_merge_or_link(principal: Principal) -> bool:
    return principal.is_agent or principal.is_admin


def can_manage_followers(principal: Principal) -> bool:
    return principal.is_agent or principal.is_admin


def can_see_internal(principal: Principal) -> bool:
    return not principal.is_customer
