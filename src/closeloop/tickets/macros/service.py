"""Use cases of macros: manage them (with their scope's permissions), fill one in for a ticket,
and apply its field actions. Each writes the audit trail and never commits.

Callers alias the import: ``from closeloop.tickets.macros import service as macros``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import normalise_tags
from closeloop.tickets.macros import repository
from closeloop.tickets.macros.domain import (
    Editor,
    MacroScope,
    fill_placeholders,
    may_manage,
    may_use,
)
from closeloop.tickets.macros.errors import MacroChangeDenied, MacroNotFound, MacroTeamRequired
from closeloop.tickets.macros.models import Macro
from closeloop.tickets.macros.schemas import MacroActions, MacroCreate, MacroUpdate
from closeloop.tickets.models import Ticket
from closeloop.tickets.schemas import TicketUpdate

ENTITY = "macro"


@dataclass(frozen=True, slots=True)
class FilledMacro:
    """A macro made ready for one ticket: the reply text and the actions to apply on send."""

    macro_id: int
    title: str
    body: str
    actions: MacroActions


def _editor(actor: Principal) -> Editor:
    return Editor(
        agent_id=actor.id if actor.is_agent else None,
        is_admin=actor.is_admin,
        led_team_ids=actor.led_team_ids,
    )


def _usable(actor: Principal, macro: Macro) -> bool:
    return may_use(
        agent_id=actor.id if actor.is_agent else None,
        team_ids=actor.team_ids,
        scope=MacroScope(macro.scope),
        owner_agent_id=macro.owner_agent_id,
        team_id=macro.team_id,
    )


def _manageable(actor: Principal, macro: Macro) -> bool:
    return may_manage(
        _editor(actor),
        scope=MacroScope(macro.scope),
        owner_agent_id=macro.owner_agent_id,
        team_id=macro.team_id,
    )


def _visible(uow: UnitOfWork, macro_id: int, actor: Principal) -> Macro:
    """The macro if the actor may use or manage it; otherwise it does not exist for them."""
    macro = repository.get(uow.session, macro_id)
    if (
        macro is None
        or actor.is_customer
        or not (_usable(actor, macro) or _manageable(actor, macro))
    ):
        raise MacroNotFound(macro_id=macro_id)
    return macro


def _record(
    uow: UnitOfWork,
    macro: Macro,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=macro.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )


# --- reading ------------------------------------------------------------------------------


def list_macros(
    uow: UnitOfWork, *, actor: Principal, include_inactive: bool = False
) -> Sequence[Macro]:
    """The macros the actor may use: global ones, their teams' and their own, by title."""
    if actor.is_customer:
        return []
    return repository.usable_by(
        uow.session,
        agent_id=actor.id if actor.is_agent else None,
        team_ids=actor.team_ids,
        include_inactive=include_inactive,
    )


def list_manageable_macros(
    uow: UnitOfWork, *, actor: Principal, scope: MacroScope | None = None
) -> list[Macro]:
    """The macros the actor may change (active or not), by title; admins see every one."""
    if actor.is_customer:
        return []
    return [
        m
        for m in repository.every(uow.session, scope=scope.value if scope else None)
        if _manageable(actor, m)
    ]


def get_macro(uow: UnitOfWork, *, macro_id: int, actor: Principal) -> Macro:
    return _visible(uow, macro_id, actor)


# --- managing -----------------------------------------------------------------------------


def create_macro(uow: UnitOfWork, *, data: MacroCreate, actor: Principal, via: str) -> Macro:
    if (data.scope is MacroScope.team) != (data.team_id is not None):
        raise MacroTeamRequired()
    owner = actor.id if data.scope is MacroScope.personal and actor.is_agent else None
    if not may_manage(_editor(actor), scope=data.scope, owner_agent_id=owner, team_id=data.team_id):
        raise MacroChangeDenied()
    if data.team_id is not None:
        accounts.get_team(uow, data.team_id)
    _check_action_team(uow, data.actions)
    now = uow.clock.now()
    macro = Macro(
        title=data.title,
        body=data.body,
        actions=data.actions.model_dump(mode="json", exclude_defaults=True),
        scope=data.scope.value,
        owner_agent_id=owner,
        team_id=data.team_id,
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(macro)
    uow.session.flush()
    _record(
        uow,
        macro,
        action="macro.created",
        actor=actor,
        via=via,
        changes=[
            Change("title", None, macro.title),
            Change("scope", None, macro.scope),
            Change("team_id", None, macro.team_id),
        ],
        new_entity=True,
    )
    return macro


def update_macro(
    uow: UnitOfWork, *, macro_id: int, data: MacroUpdate, actor: Principal, via: str
) -> Macro:
    macro = _visible(uow, macro_id, actor)
    if not _manageable(actor, macro):
        raise MacroChangeDenied()
    given = data.given()
    if "actions" in given:
        _check_action_team(uow, data.actions or MacroActions())
        given["actions"] = (data.actions or MacroActions()).model_dump(
            mode="json", exclude_defaults=True
        )
    changes: list[Change] = []
    for name, value in given.items():
        old = getattr(macro, name)
        if old != value:
            changes.append(Change(name, old, value))
            setattr(macro, name, value)
    if changes:
        macro.updated_at = uow.clock.now()
        uow.session.flush()
        _record(uow, macro, action="macro.updated", actor=actor, via=via, changes=changes)
    return macro


def delete_macro(uow: UnitOfWork, *, macro_id: int, actor: Principal, via: str) -> None:
    macro = _visible(uow, macro_id, actor)
    if not _manageable(actor, macro):
        raise MacroChangeDenied()
    _record(
        uow,
        macro,
        action="macro.deleted",
        actor=actor,
        via=via,
        changes=[Change("title", macro.title, None)],
    )
    uow.session.delete(macro)
    uow.session.flush()


def _check_action_team(uow: UnitOfWork, actions: MacroActions) -> None:
    if actions.team_id is not None:
        accounts.get_team(uow, actions.team_id)


# --- using --------------------------------------------------------------------------------


def fill_macro(uow: UnitOfWork, *, macro_id: int, ticket_id: int, actor: Principal) -> FilledMacro:
    """The macro's text for this ticket, placeholders filled, and its actions."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    macro = _usable_macro(uow, macro_id, actor)
    customer = accounts.get_customer(uow, ticket.requester_id)
    body = fill_placeholders(
        macro.body,
        {
            "customer_name": customer.name,
            "ticket_number": format_ticket_number(ticket.id),
            "agent_name": actor.name,
        },
    )
    return FilledMacro(
        macro_id=macro.id,
        title=macro.title,
        body=body,
        actions=MacroActions.model_validate(macro.actions),
    )


def apply_macro(
    uow: UnitOfWork,
    *,
    macro_id: int,
    ticket_id: int,
    expected_version: int | None,
    actor: Principal,
    via: str,
) -> Ticket:
    """Apply the macro's field actions to the ticket (fields, tags, then the status) and return
    the ticket. ``expected_version`` guards against overwriting a change made meanwhile."""
    macro = _usable_macro(uow, macro_id, actor)
    actions = MacroActions.model_validate(macro.actions)
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    fields: dict[str, Any] = {}
    if actions.priority is not None:
        fields["priority"] = actions.priority
    if actions.type is not None:
        fields["type"] = actions.type
    if actions.team_id is not None and actions.team_id != ticket.team_id:
        fields["team_id"] = actions.team_id
        # A ticket handed to another team leaves its assignee unless they are a member.
        if ticket.assignee_id is not None and not accounts.is_team_member(
            uow, team_id=actions.team_id, agent_id=ticket.assignee_id
        ):
            fields["assignee_id"] = None
    if actions.add_tags:
        fields["tags"] = normalise_tags([*ticket.tags, *actions.add_tags])
    version = expected_version
    if fields:
        ticket = tickets.update_fields(
            uow,
            ticket_id=ticket_id,
            data=TicketUpdate(**fields),
            expected_version=version,
            actor=actor,
            via=via,
        )
        version = ticket.version
    if actions.status is not None and actions.status.value != ticket.status:
        ticket = tickets.transition(
            uow,
            ticket_id=ticket_id,
            target=actions.status,
            pending_reason=actions.pending_reason,
            expected_version=version,
            actor=actor,
            via=via,
        )
    return ticket


def _usable_macro(uow: UnitOfWork, macro_id: int, actor: Principal) -> Macro:
    macro = repository.get(uow.session, macro_id)
    if macro is None or actor.is_customer or not macro.is_active or not _usable(actor, macro):
        raise MacroNotFound(macro_id=macro_id)
    return macro
