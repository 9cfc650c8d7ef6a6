"""Changing a ticket: its fields, its status, its team and assignee."""

from __future__ import annotations

from typing import Any

from closeloop.accounts.domain import Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.search_tokens import document_text
from closeloop.tickets import permissions, repository
from closeloop.tickets.domain import (
    PendingReason,
    TicketStatus,
    allowed_transitions,
    is_transition_allowed,
    normalise_tags,
)
from closeloop.tickets.errors import InvalidTransition, TicketActionDenied
from closeloop.tickets.events import StatusChanged, TicketAssigned, TicketUpdated
from closeloop.tickets.models import Ticket
from closeloop.tickets.schemas import TicketUpdate
from closeloop.tickets.service._common import (
    check_team_and_assignee,
    clean_custom_fields,
    load_for_change,
    record,
)

_PLAIN_FIELDS = ("subject", "description", "type", "priority")


def update_fields(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    data: TicketUpdate,
    expected_version: int | None,
    actor: Principal,
    via: str,
) -> Ticket:
    ticket = load_for_change(uow, ticket_id, actor, expected_version=expected_version)
    if not permissions.can_edit_fields(actor):
        raise TicketActionDenied(action=_("edit its fields"))
    given = data.model_fields_set - {"version"}
    changes: list[Change] = []
    for name in _PLAIN_FIELDS:
        if name not in given:
            continue
        value: Any = getattr(data, name)
        if value is None:
            continue
        new = value.value if hasattr(value, "value") else value
        if getattr(ticket, name) != new:
            changes.append(Change(name, getattr(ticket, name), new))
            setattr(ticket, name, new)
    if "tags" in given and data.tags is not None:
        tags = normalise_tags(data.tags)
        if tags != list(ticket.tags):
            changes.append(Change("tags", list(ticket.tags), tags))
            ticket.tags = tags
            repository.replace_tags(uow.session, ticket.id, tags, new=False)
    type_changed = any(c.field == "type" for c in changes)
    if ("custom_fields" in given and data.custom_fields is not None) or type_changed:
        merged = {**ticket.custom_fields, **(data.custom_fields or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        cleaned = clean_custom_fields(uow, ticket.type, merged, partial=False)
        if cleaned != ticket.custom_fields:
            changes.append(Change("custom_fields", dict(ticket.custom_fields), cleaned))
            ticket.custom_fields = cleaned
    routing = {"team_id", "assignee_id"} & given
    if routing:
        changes.extend(
            _apply_assignment(
                uow,
                ticket,
                team_id=data.team_id if "team_id" in given else ticket.team_id,
                assignee_id=data.assignee_id if "assignee_id" in given else ticket.assignee_id,
                actor=actor,
            )
        )
    if not changes:
        return ticket
    ticket.updated_at = uow.clock.now()
    uow.session.flush()
    if {"subject", "description"} & {c.field for c in changes if c.field}:
        _reindex(uow, ticket)
    record(uow, ticket, action="ticket.updated", actor=actor, via=via, changes=changes)
    uow.publish(
        TicketUpdated(
            ticket_id=ticket.id,
            fields=tuple(c.field or "" for c in changes),
            actor_agent_id=actor.id if actor.is_agent else None,
        )
    )
    return ticket


def _reindex(uow: UnitOfWork, ticket: Ticket) -> None:
    bodies = [
        m.body_text for m in repository.messages_of(uow.session, ticket.id, include_internal=False)
    ]
    repository.index_document(
        uow.session,
        ticket.id,
        document_text(ticket.subject, ticket.description, *bodies),
        new=False,
    )


def _apply_assignment(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    team_id: int | None,
    assignee_id: int | None,
    actor: Principal,
) -> list[Change]:
    if team_id == ticket.team_id and assignee_id == ticket.assignee_id:
        return []
    if not permissions.can_assign(actor, ticket, team_id=team_id, assignee_id=assignee_id):
        raise TicketActionDenied(action=_("assign it this way"))
    check_team_and_assignee(uow, team_id=team_id, assignee_id=assignee_id)
    changes: list[Change] = []
    previous_team, previous_assignee = ticket.team_id, ticket.assignee_id
    if team_id != ticket.team_id:
        changes.append(Change("team_id", ticket.team_id, team_id))
        ticket.team_id = team_id
    if assignee_id != ticket.assignee_id:
        changes.append(Change("assignee_id", ticket.assignee_id, assignee_id))
        ticket.assignee_id = assignee_id
    if assignee_id is not None and ticket.status == TicketStatus.new.value:
        changes.append(Change("status", ticket.status, TicketStatus.open.value))
        ticket.status = TicketStatus.open.value
    uow.publish(
        TicketAssigned(
            ticket_id=ticket.id,
            team_id=team_id,
            assignee_id=assignee_id,
            previous_team_id=previous_team,
            previous_assignee_id=previous_assignee,
            actor_agent_id=actor.id if actor.is_agent else None,
        )
    )
    return changes


def assign(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    team_id: int | None,
    assignee_id: int | None,
    expected_version: int | None,
    actor: Principal,
    via: str,
) -> Ticket:
    ticket = load_for_change(uow, ticket_id, actor, expected_version=expected_version)
    changes = _apply_assignment(uow, ticket, team_id=team_id, assignee_id=assignee_id, actor=actor)
    if not changes:
        return ticket
    ticket.updated_at = uow.clock.now()
    uow.session.flush()
    record(uow, ticket, action="ticket.assigned", actor=actor, via=via, changes=changes)
    return ticket


def transition(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    target: TicketStatus,
    pending_reason: PendingReason | None,
    expected_version: int | None,
    actor: Principal,
    via: str,
) -> Ticket:
    ticket = load_for_change(uow, ticket_id, actor, expected_version=expected_version)
    current = TicketStatus(ticket.status)
    if not is_transition_allowed(current, target):
        raise InvalidTransition(
            current=current.value,
            target=target.value,
            allowed=[s.value for s in allowed_transitions(current)],
        )
    if not permissions.can_transition(actor, ticket, target):
        raise TicketActionDenied(action=_("change its status this way"))
    now = uow.clock.now()
    changes = [Change("status", current.value, target.value)]
    reason = (
        (pending_reason or PendingReason.customer).value if target is TicketStatus.pending else None
    )
    if reason != ticket.pending_reason:
        changes.append(Change("pending_reason", ticket.pending_reason, reason))
        ticket.pending_reason = reason
    ticket.status = target.value
    if target is TicketStatus.resolved:
        ticket.resolved_at = now
    elif target is TicketStatus.closed:
        ticket.closed_at = now
    elif current is TicketStatus.resolved:
        # Reopened: the earlier resolution no longer counts.
        changes.append(
            Change(
                "resolved_at", ticket.resolved_at.isoformat() if ticket.resolved_at else None, None
            )
        )
        ticket.resolved_at = None
    ticket.updated_at = now
    uow.session.flush()
    record(
        uow,
        ticket,
        action="ticket.status_changed",
        actor=actor,
        via=via,
        changes=changes,
        is_public=True,
    )
    uow.publish(
        StatusChanged(ticket_id=ticket.id, old_status=current.value, new_status=target.value)
    )
    return ticket
