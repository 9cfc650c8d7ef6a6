"""Transfers between teams: the history, assignment in the new team, and ping-pong at the third
hand-over (flagged once, leads told, escalation team suggested or, by setting, moved to)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.builders import make_agent, make_customer, make_team, make_ticket, principal_of

from closeloop.accounts.domain import SYSTEM, Principal, Role
from closeloop.accounts.models import Team
from closeloop.db.session import UnitOfWork
from closeloop.notifications.models import Notification
from closeloop.routing import service as routing
from closeloop.routing.domain import Strategy
from closeloop.routing.errors import AlreadyWithTeam
from closeloop.routing.models import RoutingFeedback, TicketRouting
from closeloop.routing.schemas import RoutingSettingsUpdate
from closeloop.tickets import service as tickets

from .conftest import lead_of, staffed_team, use_strategy


def _transfer(uow: UnitOfWork, ticket_id: int, team: Team, *, by: Principal = SYSTEM) -> bool:
    result = routing.transfer_ticket(
        uow,
        ticket_id=ticket_id,
        team_id=team.id,
        reason=f"belongs to {team.name}",
        expected_version=None,
        actor=by,
        via="test",
    )
    uow.commit()
    return result.ping_pong


def test_a_transfer_keeps_the_history_and_the_new_team_assigns(uow: UnitOfWork) -> None:
    first = make_team(uow, name="一线")
    second, agents = staffed_team(uow, Strategy.least_load, name="二线")
    agent = make_agent(uow, teams=[first], password=None)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=first.id)
    uow.commit()
    actor = principal_of(uow, agent)

    result = routing.transfer_ticket(
        uow,
        ticket_id=ticket.id,
        team_id=second.id,
        reason="需要二线处理",
        expected_version=None,
        actor=actor,
        via="test",
    )
    uow.commit()

    assert result.ticket.team_id == second.id
    assert result.ticket.assignee_id in {a.id for a in agents}
    assert not result.ping_pong
    history = routing.transfers_of(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert [(t.from_team_id, t.to_team_id, t.reason, t.actor_id) for t in history] == [
        (first.id, second.id, "需要二线处理", agent.id)
    ]
    assert uow.session.scalars(select(RoutingFeedback)).all() == []  # nothing routed the team
    with pytest.raises(AlreadyWithTeam):
        routing.transfer_ticket(
            uow,
            ticket_id=ticket.id,
            team_id=second.id,
            reason="again",
            expected_version=None,
            actor=SYSTEM,
            via="test",
        )


def test_the_third_transfer_is_ping_pong_and_the_lead_is_told(uow: UnitOfWork) -> None:
    alpha, beta = make_team(uow, name="Alpha"), make_team(uow, name="Beta")
    experts = make_team(uow, name="Experts")
    alpha_lead, beta_lead = lead_of(uow, alpha), lead_of(uow, beta)
    for team in (alpha, beta):
        use_strategy(uow, team, Strategy.manual)
    routing.update_settings(
        uow,
        changes=RoutingSettingsUpdate(escalation_team_id=experts.id),
        actor=SYSTEM,
        via="test",
    )
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=alpha.id)
    uow.commit()

    flags = [
        _transfer(uow, ticket.id, beta),
        _transfer(uow, ticket.id, alpha),
        _transfer(uow, ticket.id, beta),
        _transfer(uow, ticket.id, alpha),
    ]

    assert flags == [False, False, True, True]
    state = uow.session.get(TicketRouting, ticket.id)
    assert state is not None
    assert state.ping_pong_at is not None
    assert state.suggested_team_id == experts.id
    current = tickets.get_ticket(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert current.team_id == alpha.id  # suggested, not moved
    told = uow.session.scalars(
        select(Notification).where(Notification.event == "ticket.ping_pong")
    ).all()
    assert [n.recipient_agent_id for n in told] == [beta_lead.id]  # once, the lead holding it
    assert alpha_lead.id != beta_lead.id


def test_ping_pong_moves_the_ticket_to_the_escalation_team_when_set(uow: UnitOfWork) -> None:
    alpha, beta = make_team(uow, name="Alpha"), make_team(uow, name="Beta")
    experts, expert_agents = staffed_team(uow, Strategy.least_load, name="Experts")
    routing.update_settings(
        uow,
        changes=RoutingSettingsUpdate(
            escalation_team_id=experts.id, move_ping_pong=True, ping_pong_threshold=3
        ),
        actor=SYSTEM,
        via="test",
    )
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=alpha.id)
    uow.commit()

    for team in (beta, alpha, beta):
        _transfer(uow, ticket.id, team)

    current = tickets.get_ticket(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert current.team_id == experts.id
    assert current.assignee_id in {a.id for a in expert_agents}
    history = routing.transfers_of(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert [(t.to_team_id, t.reason) for t in history][-1] == (experts.id, "ping-pong")
    assert len(history) == 4


def test_a_team_change_outside_the_transfer_endpoint_counts_too(uow: UnitOfWork) -> None:
    alpha, beta = make_team(uow, name="Alpha"), make_team(uow, name="Beta")
    supervisor = make_agent(uow, role=Role.supervisor, password=None)
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=alpha.id)
    uow.commit()

    tickets.assign(
        uow,
        ticket_id=ticket.id,
        team_id=beta.id,
        assignee_id=None,
        expected_version=ticket.version,
        actor=principal_of(uow, supervisor),
        via="test",
    )
    uow.commit()

    history = routing.transfers_of(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert [(t.from_team_id, t.to_team_id, t.reason, t.actor_id) for t in history] == [
        (alpha.id, beta.id, "", supervisor.id)
    ]
