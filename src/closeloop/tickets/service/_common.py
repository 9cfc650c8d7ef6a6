"""Steps shared by the ticket use cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import repository
from closeloop.tickets.custom_fields.domain import FieldSpec, FieldType, validate_custom_fields
from closeloop.tickets.errors import (
    StaleVersion,
    TicketClosed,
    TicketMerged,
    TicketNotFound,
    VersionRequired,
)
from closeloop.tickets.models import Ticket

ENTITY = "ticket"
_HELD_KEY = "tickets.held"


def hold(uow: UnitOfWork, *loaded: object) -> None:
    """Keep rows this transaction loaded referenced until it ends. The session's identity map
    holds rows weakly: a row nobody references is read again by the next ``session.get`` (the
    reactions to a new ticket read its requester and the ticket itself)."""
    held: list[object] | None = uow.session.info.get(_HELD_KEY)
    if held is None:
        held = []
        uow.session.info[_HELD_KEY] = held
        uow.after_commit(lambda: uow.session.info.pop(_HELD_KEY, None))
    held.extend(loaded)


def load_visible(uow: UnitOfWork, ticket_id: int, actor: Principal) -> Ticket:
    if actor.sees_all_tickets:
        # Every ticket is visible: the identity map answers when the session holds the ticket.
        found = repository.get(uow.session, ticket_id)
        if found is None:
            raise TicketNotFound(ticket_id=ticket_id)
        return found
    ticket = repository.get_visible(uow.session, ticket_id, actor)
    if ticket is None:
        raise TicketNotFound(ticket_id=ticket_id)
    return ticket


def load_for_change(
    uow: UnitOfWork,
    ticket_id: int,
    actor: Principal,
    *,
    expected_version: int | None,
    require_version: bool = True,
) -> Ticket:
    """Lock and return a ticket the actor may read and that may still change."""
    ticket = repository.get_visible(uow.session, ticket_id, actor, for_update=True)
    if ticket is None:
        raise TicketNotFound(ticket_id=ticket_id)
    number = format_ticket_number(ticket.id)
    if ticket.merged_into_id is not None:
        raise TicketMerged(number=number, survivor=format_ticket_number(ticket.merged_into_id))
    if ticket.status == "closed":
        raise TicketClosed(number=number)
    if expected_version is None and require_version:
        raise VersionRequired(number=number)
    if expected_version is not None and expected_version != ticket.version:
        raise StaleVersion(number=number, given=expected_version, current=ticket.version)
    return ticket


def record(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change] | None = None,
    is_public: bool = False,
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=ticket.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes or [],
        is_public=is_public,
        new_entity=new_entity,
    )


def field_specs(uow: UnitOfWork, ticket_type: str) -> list[FieldSpec]:
    return [
        FieldSpec(
            key=d.key,
            field_type=FieldType(d.field_type),
            is_required=d.is_required,
            options=tuple(d.options),
            label=d.label_en,
        )
        for d in repository.custom_field_definitions(uow.session, ticket_type)
    ]


def clean_custom_fields(
    uow: UnitOfWork, ticket_type: str, values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    return validate_custom_fields(field_specs(uow, ticket_type), values, partial=partial)


def check_team_and_assignee(
    uow: UnitOfWork, *, team_id: int | None, assignee_id: int | None
) -> None:
    """The team exists; the assignee is an active agent and, when there is a team, a member."""
    if team_id is not None:
        accounts.get_team(uow, team_id)
    if assignee_id is None:
        return
    accounts.active_agent(uow, assignee_id)
    if team_id is not None and not accounts.is_team_member(
        uow, team_id=team_id, agent_id=assignee_id
    ):
        raise ValidationFailed(
            errors=[
                {
                    "field": "assignee_id",
                    "code": "not_a_member",
                    "message": f"Agent {assignee_id} is not a member of team {team_id}.",
                }
            ]
        )
