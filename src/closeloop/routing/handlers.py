"""Reactions of routing to ticket events (subscribed in ``closeloop.wiring``).

All run inside the transaction of the change, so what routing decides and records commits or
rolls back with the ticket.
"""

from __future__ import annotations

from closeloop.db.session import UnitOfWork
from closeloop.routing.service import assignment, feedback, intake, transfers
from closeloop.routing.service._common import leave_triage
from closeloop.tickets.events import TicketAssigned, TicketOpened, TicketUpdated


def on_ticket_opened(uow: UnitOfWork, event: TicketOpened) -> None:
    """Triage: type, priority and team by the classifier or the rules, then an agent."""
    intake.triage_ticket(uow, ticket_id=event.ticket_id, given_fields=event.given_fields)


def on_ticket_updated(uow: UnitOfWork, event: TicketUpdated) -> None:
    """An agent's change of type or priority is feedback for the classifier."""
    feedback.learn_from_fields(
        uow, ticket_id=event.ticket_id, fields=event.fields, agent_id=event.actor_agent_id
    )


def on_ticket_assigned(uow: UnitOfWork, event: TicketAssigned) -> None:
    """Keep round robin's turn order, leave the triage queue once a team owns the ticket,
    record team changes as transfers (ping-pong) and an agent's team change as feedback."""
    if event.assignee_id is not None and event.assignee_id != event.previous_assignee_id:
        assignment.note_assigned(uow, event.assignee_id)
    if event.team_id == event.previous_team_id:
        return
    if event.team_id is not None:
        leave_triage(uow, event.ticket_id)
    feedback.learn_from_team(
        uow, ticket_id=event.ticket_id, team_id=event.team_id, agent_id=event.actor_agent_id
    )
    transfers.on_team_changed(
        uow,
        ticket_id=event.ticket_id,
        from_team_id=event.previous_team_id,
        to_team_id=event.team_id,
        actor_agent_id=event.actor_agent_id,
    )
