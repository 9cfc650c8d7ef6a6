"""Handing tickets between teams, the history of transfers, and ping-pong.

A transfer through :func:`transfer_ticket` names a reason; a team change made otherwise (a
PATCH of ``team_id``, an assignment) is recorded as a transfer too, without one, so the
history and the ping-pong count are complete. A ticket passed between teams as often as the
setting says (3 by default) is flagged as ping-pong once: its team's lead is told (through the
``TicketPingPonged`` event) and the escalation team is suggested, or, when the setting says
so, the ticket is moved there.
"""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.accounts.errors import TeamNotFound
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied
from closeloop.kit.ids import format_ticket_number
from closeloop.routing import repository
from closeloop.routing.domain import is_ping_pong
from closeloop.routing.errors import AlreadyWithTeam
from closeloop.routing.events import TicketPingPonged
from closeloop.routing.models import TicketTransfer
from closeloop.routing.schemas import TransferRead, TransferResultRead
from closeloop.routing.service._common import (
    VIA_PING_PONG,
    VIA_TRANSFER,
    record_on_ticket,
    routing_settings,
    ticket_state,
)
from closeloop.routing.service.assignment import assign_within_team
from closeloop.tickets import service as tickets
from closeloop.tickets.schemas import TicketRead

# Team changes this unit of work records itself (session info: (ticket id, team id) pairs),
# so the TicketAssigned handler does not record them a second time.
_EXPECTED_KEY = "routing.expected_team_changes"
PING_PONG_REASON = "ping-pong"


@dataclass(frozen=True, slots=True)
class PingPong:
    flagged: bool
    suggested_team_id: int | None
    moved_to_team_id: int | None


def transfer_ticket(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    team_id: int,
    reason: str,
    expected_version: int | None,
    actor: Principal,
    via: str,
) -> TransferResultRead:
    """Hand the ticket to another team with a reason; it leaves its assignee and is assigned
    in the new team by that team's strategy. A ticket you may not read is not found."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    if ticket.team_id == team_id:
        raise AlreadyWithTeam(number=format_ticket_number(ticket.id))
    accounts.get_team(uow, team_id)
    from_team_id = ticket.team_id
    _expect(uow, ticket.id, team_id)
    tickets.assign(
        uow,
        ticket_id=ticket.id,
        team_id=team_id,
        assignee_id=None,
        expected_version=ticket.version if expected_version is None else expected_version,
        actor=actor,
        via=via,
    )
    transfer, count = record_transfer(
        uow,
        ticket_id=ticket.id,
        from_team_id=from_team_id,
        to_team_id=team_id,
        reason=reason,
        actor=actor,
        via=via,
    )
    ping_pong = check_ping_pong(uow, ticket_id=ticket.id, team_id=team_id, transfers=count)
    if ping_pong.moved_to_team_id is None:
        assign_within_team(uow, ticket_id=ticket.id, via=VIA_TRANSFER)
    current = tickets.get_ticket(uow, ticket_id=ticket.id, actor=SYSTEM)
    return TransferResultRead(
        ticket=TicketRead.of(current),
        transfer=present_transfer(transfer),
        ping_pong=ping_pong.flagged,
        suggested_team_id=ping_pong.suggested_team_id,
        moved_to_team_id=ping_pong.moved_to_team_id,
    )


def record_transfer(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    from_team_id: int | None,
    to_team_id: int | None,
    reason: str,
    actor: Principal,
    via: str,
) -> tuple[TicketTransfer, int]:
    """Append the transfer to the history and the timeline; the ticket's transfers so far."""
    transfer = TicketTransfer(
        ticket_id=ticket_id,
        from_team_id=from_team_id,
        to_team_id=to_team_id,
        reason=reason,
        actor_type=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
        at=uow.clock.now(),
    )
    uow.session.add(transfer)
    uow.session.flush()
    changes = [Change("team_id", from_team_id, to_team_id)]
    if reason:
        changes.append(Change("reason", None, reason))
    record_on_ticket(
        uow, ticket_id, action="routing.transferred", changes=changes, via=via, actor=actor
    )
    return transfer, repository.transfer_count(uow.session, ticket_id)


def on_team_changed(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    from_team_id: int | None,
    to_team_id: int | None,
    actor_agent_id: int | None,
) -> None:
    """A ticket changed teams outside :func:`transfer_ticket`: record it as a transfer too."""
    expected: set[tuple[int, int | None]] = uow.session.info.get(_EXPECTED_KEY, set())
    if (ticket_id, to_team_id) in expected:
        expected.discard((ticket_id, to_team_id))
        return
    if from_team_id is None or to_team_id is None:
        return  # joining a first team (triage) or leaving every team is not a hand-over
    actor = SYSTEM
    if actor_agent_id is not None:
        actor = accounts.principal_for_agent_id(uow, actor_agent_id) or SYSTEM
    _transfer, count = record_transfer(
        uow,
        ticket_id=ticket_id,
        from_team_id=from_team_id,
        to_team_id=to_team_id,
        reason="",
        actor=actor,
        via=VIA_TRANSFER,
    )
    check_ping_pong(uow, ticket_id=ticket_id, team_id=to_team_id, transfers=count)


def _expect(uow: UnitOfWork, ticket_id: int, team_id: int | None) -> None:
    uow.session.info.setdefault(_EXPECTED_KEY, set()).add((ticket_id, team_id))


def check_ping_pong(uow: UnitOfWork, *, ticket_id: int, team_id: int, transfers: int) -> PingPong:
    """Flag the ticket the first time its transfers reach the threshold; suggest or move it
    to the escalation team and tell the leads (``TicketPingPonged``)."""
    settings = routing_settings(uow)
    state = ticket_state(uow, ticket_id)
    if state.ping_pong_at is not None or not is_ping_pong(
        transfers=transfers, threshold=settings.ping_pong_threshold
    ):
        return PingPong(state.ping_pong_at is not None, state.suggested_team_id, None)
    escalation = settings.escalation_team_id if settings.escalation_team_id != team_id else None
    now = uow.clock.now()
    state.ping_pong_at, state.suggested_team_id, state.updated_at = now, escalation, now
    moved_to = None
    if escalation is not None and settings.move_ping_pong:
        _move(uow, ticket_id=ticket_id, from_team_id=team_id, to_team_id=escalation)
        moved_to = escalation
    leads = _leads(uow, [team_id, *([moved_to] if moved_to is not None else [])])
    record_on_ticket(
        uow,
        ticket_id,
        action="routing.ping_pong",
        changes=[
            Change("transfers", None, transfers),
            Change("suggested_team_id", None, escalation),
            Change("moved_to_team_id", None, moved_to),
        ],
        via=VIA_PING_PONG,
    )
    uow.publish(
        TicketPingPonged(
            ticket_id=ticket_id,
            transfers=transfers,
            team_id=moved_to if moved_to is not None else team_id,
            lead_ids=tuple(leads),
            suggested_team_id=escalation,
            moved=moved_to is not None,
        )
    )
    return PingPong(True, escalation, moved_to)


def _move(uow: UnitOfWork, *, ticket_id: int, from_team_id: int, to_team_id: int) -> None:
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    _expect(uow, ticket_id, to_team_id)
    tickets.assign(
        uow,
        ticket_id=ticket_id,
        team_id=to_team_id,
        assignee_id=None,
        expected_version=ticket.version,
        actor=SYSTEM,
        via=VIA_PING_PONG,
    )
    record_transfer(
        uow,
        ticket_id=ticket_id,
        from_team_id=from_team_id,
        to_team_id=to_team_id,
        reason=PING_PONG_REASON,
        actor=SYSTEM,
        via=VIA_PING_PONG,
    )
    assign_within_team(uow, ticket_id=ticket_id, via=VIA_PING_PONG)


def _leads(uow: UnitOfWork, team_ids: list[int]) -> list[int]:
    leads: list[int] = []
    for team_id in team_ids:
        try:
            lead_id = accounts.get_team(uow, team_id).lead_id
        except TeamNotFound:
            continue
        if lead_id is not None and lead_id not in leads:
            leads.append(lead_id)
    return leads


def transfers_of(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> list[TransferRead]:
    """The ticket's transfers, oldest first, for agents (a ticket you may not read is not
    found)."""
    tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    if actor.is_customer:
        raise PermissionDenied()
    return [present_transfer(t) for t in repository.transfers_of(uow.session, ticket_id)]


def present_transfer(transfer: TicketTransfer) -> TransferRead:
    return TransferRead(
        id=transfer.id,
        ticket_id=transfer.ticket_id,
        from_team_id=transfer.from_team_id,
        to_team_id=transfer.to_team_id,
        reason=transfer.reason,
        actor_type=transfer.actor_type,
        actor_id=transfer.actor_id,
        actor_name=transfer.actor_name,
        at=transfer.at,
    )
