"""Bulk actions on the ticket list: assign, change status, add tags, merge.

Each ticket is changed in a transaction of its own, through the same use cases as a single
change (``tickets.service``), with the version the ticket has when the action runs: a ticket
that cannot take the change (an illegal status move, a closed or merged ticket, a permission,
a concurrent change) is skipped with its reason and the others are still applied.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _
from closeloop.kit.ids import format_ticket_number, parse_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import (
    MAX_TAGS,
    Channel,
    TicketStatus,
    is_transition_allowed,
    normalise_tags,
)
from closeloop.tickets.schemas import TicketUpdate
from closeloop.web import labels

MAX_BULK = 200
NO_ACTION = _("Choose what to do with the selected tickets.")
NOTHING_SELECTED = _("Select at least one ticket.")
NO_STATUS = _("Choose the status to set.")


class BulkAction(enum.StrEnum):
    assign_me = "assign_me"
    assign_agent = "assign_agent"
    assign_team = "assign_team"
    status = "status"
    tags = "tags"
    merge = "merge"


@dataclass(slots=True)
class BulkOutcome:
    updated: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def message(self, locale: str) -> str:
        """``3 updated, 1 skipped: TK-000123 cannot go from Closed to Open``."""
        summary = _("{updated} updated, {skipped} skipped").render(
            locale, updated=len(self.updated), skipped=len(self.skipped)
        )
        if not self.skipped:
            return _("{updated} updated").render(locale, updated=len(self.updated))
        reasons = "; ".join(reason for _ticket_id, reason in self.skipped)
        return f"{summary}: {reasons}"


@dataclass(frozen=True, slots=True)
class BulkRequest:
    action: BulkAction
    ticket_ids: Sequence[int]
    agent_id: int | None = None
    team_id: int | None = None
    status: TicketStatus | None = None
    tags: Sequence[str] = ()
    survivor: str = ""


def _each(
    uow: UnitOfWork,
    ticket_ids: Sequence[int],
    outcome: BulkOutcome,
    locale: str,
    change: Callable[[int], str | None],
) -> None:
    """Run ``change(ticket_id)`` per ticket, each in its own transaction.

    ``change`` returns why it skipped the ticket (``cannot go from Closed to Open``) or None;
    a DomainError skips the ticket too, with the error's message.
    """
    for ticket_id in ticket_ids:
        number = format_ticket_number(ticket_id)
        try:
            reason = change(ticket_id)
        except DomainError as error:
            uow.rollback()
            outcome.skipped.append((ticket_id, f"{number}: {error.render(locale)}"))
            continue
        if reason is not None:
            uow.rollback()
            outcome.skipped.append((ticket_id, f"{number} {reason}"))
            continue
        uow.commit()
        outcome.updated.append(ticket_id)


def run_bulk(
    uow: UnitOfWork, request: BulkRequest, *, actor: Principal, via: str, locale: str
) -> BulkOutcome:
    outcome = BulkOutcome()
    ids = list(dict.fromkeys(request.ticket_ids))[:MAX_BULK]
    if request.action is BulkAction.merge:
        _merge(uow, request, ids, outcome, actor=actor, via=via, locale=locale)
        return outcome

    def change(ticket_id: int) -> str | None:
        # The version the ticket has now: a change made meanwhile by someone else is not undone,
        # and a concurrent one while this runs fails the version check (skipped with a reason).
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
        version = ticket.version
        if request.action is BulkAction.status:
            assert request.status is not None
            current = TicketStatus(ticket.status)
            if current is request.status:
                return _("is already {status}").render(
                    locale, status=labels.label(labels.STATUS_LABELS, current, locale)
                )
            if not is_transition_allowed(current, request.status):
                return _("cannot go from {current} to {target}").render(
                    locale,
                    current=labels.label(labels.STATUS_LABELS, current, locale),
                    target=labels.label(labels.STATUS_LABELS, request.status, locale),
                )
            tickets.transition(
                uow,
                ticket_id=ticket_id,
                target=request.status,
                pending_reason=None,
                expected_version=version,
                actor=actor,
                via=via,
            )
            return None
        if request.action is BulkAction.tags:
            tags = normalise_tags([*ticket.tags, *request.tags])[:MAX_TAGS]
            if tags == list(ticket.tags):
                return _("already has these tags").render(locale)
            tickets.update_fields(
                uow,
                ticket_id=ticket_id,
                data=TicketUpdate(version=version, tags=tags),
                expected_version=version,
                actor=actor,
                via=via,
            )
            return None
        team_id, assignee_id = ticket.team_id, ticket.assignee_id
        if request.action is BulkAction.assign_me:
            assignee_id = actor.id
        elif request.action is BulkAction.assign_agent:
            assignee_id = request.agent_id
        elif request.action is BulkAction.assign_team:
            team_id, assignee_id = request.team_id, None
        if (team_id, assignee_id) == (ticket.team_id, ticket.assignee_id):
            return _("is already assigned that way").render(locale)
        tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=team_id,
            assignee_id=assignee_id,
            expected_version=version,
            actor=actor,
            via=via,
        )
        return None

    _each(uow, ids, outcome, locale, change)
    return outcome


def _merge(
    uow: UnitOfWork,
    request: BulkRequest,
    ids: list[int],
    outcome: BulkOutcome,
    *,
    actor: Principal,
    via: str,
    locale: str,
) -> None:
    """Merge every selected ticket into the chosen survivor (one of them or any other)."""
    survivor_id = parse_ticket_number(request.survivor.strip())
    if survivor_id is None:
        reason = _("was not merged: choose the ticket to merge into").render(locale)
        outcome.skipped.extend(
            (ticket_id, f"{format_ticket_number(ticket_id)} {reason}") for ticket_id in ids
        )
        return
    sources = [ticket_id for ticket_id in ids if ticket_id != survivor_id]

    def change(ticket_id: int) -> str | None:
        source = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
        tickets.merge_tickets(
            uow,
            source_ticket_id=ticket_id,
            into_ticket_id=survivor_id,
            expected_version=source.version,
            actor=actor,
            via=via,
            channel=Channel.web,
        )
        return None

    _each(uow, sources, outcome, locale, change)
