"""Pull mode ("get next ticket"): the most urgent ticket the agent may take, and never one
ticket to two agents, even when they press at the same moment on separate connections."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from tests.builders import make_agent, make_customer, make_team, make_ticket, principal_of
from tests.conftest import START

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork, create_session_factory
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.routing import service as routing
from closeloop.routing.domain import AgentStatus, Strategy
from closeloop.routing.errors import AtCapacity
from closeloop.routing.schemas import AvailabilityUpdate
from closeloop.tickets import service as tickets

from .conftest import go_online, use_strategy


def _pull(uow: UnitOfWork, actor: Principal) -> int | None:
    taken = routing.pull_next(uow, actor=actor, via="test")
    uow.commit()
    return taken.ticket.id if taken.ticket else None


def test_the_most_urgent_ticket_comes_first(uow: UnitOfWork, clock: FrozenClock) -> None:
    team = make_team(uow)
    agent = make_agent(uow, teams=[team], password=None)
    agent.is_senior = True
    customer = make_customer(uow)
    old_p3 = make_ticket(uow, requester=customer, team_id=team.id, priority="P3")
    clock.advance(timedelta(minutes=5))
    new_p1 = make_ticket(uow, requester=customer, team_id=team.id, priority="P1")
    clock.advance(timedelta(minutes=5))
    newest_p4_due = make_ticket(uow, requester=customer, team_id=team.id, priority="P4")
    newer_p3 = make_ticket(uow, requester=customer, team_id=team.id, priority="P3")
    tickets.set_sla_summary(
        uow, ticket_id=newest_p4_due.id, due_at=START + timedelta(hours=1), state="warning"
    )
    other_team = make_ticket(uow, requester=customer, team_id=make_team(uow).id, priority="P1")
    uow.commit()
    actor = principal_of(uow, agent)

    order = [_pull(uow, actor) for _ in range(5)]

    assert order == [newest_p4_due.id, new_p1.id, old_p3.id, newer_p3.id, None]
    assert tickets.get_ticket(uow, ticket_id=other_team.id, actor=SYSTEM).assignee_id is None
    assert tickets.get_ticket(uow, ticket_id=old_p3.id, actor=SYSTEM).status == "open"


def test_an_agent_at_their_maximum_takes_nothing_more(uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_agent(uow, teams=[team], password=None)
    go_online(uow, agent, max_concurrent=1)
    customer = make_customer(uow)
    for _ in range(2):
        make_ticket(uow, requester=customer, team_id=team.id)
    uow.commit()
    actor = principal_of(uow, agent)

    assert _pull(uow, actor) is not None
    with pytest.raises(AtCapacity):
        routing.pull_next(uow, actor=actor, via="test")


def test_p1_waits_for_a_senior_while_one_can_take_it(uow: UnitOfWork) -> None:
    team = make_team(uow)
    junior = make_agent(uow, teams=[team], password=None)
    senior = make_agent(uow, teams=[team], password=None)
    senior.is_senior = True
    go_online(uow, senior)
    customer = make_customer(uow)
    urgent = make_ticket(uow, requester=customer, team_id=team.id, priority="P1")
    routine = make_ticket(uow, requester=customer, team_id=team.id, priority="P3")
    uow.commit()

    assert _pull(uow, principal_of(uow, junior)) == routine.id
    assert _pull(uow, principal_of(uow, junior)) is None  # the P1 waits for the senior

    routing.update_availability(
        uow,
        agent_id=senior.id,
        changes=AvailabilityUpdate(status=AgentStatus.away),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()

    assert _pull(uow, principal_of(uow, junior)) == urgent.id  # nobody senior is there


def test_a_triage_team_pulls_tickets_without_a_team(uow: UnitOfWork) -> None:
    triage = make_team(uow, name="Dispatch")
    use_strategy(uow, triage, Strategy.manual, triage=True)
    dispatcher = make_agent(uow, teams=[triage], password=None)
    lost = make_ticket(uow, requester=make_customer(uow))
    uow.commit()

    assert _pull(uow, principal_of(uow, dispatcher)) == lost.id
    ticket = tickets.get_ticket(uow, ticket_id=lost.id, actor=SYSTEM)
    assert (ticket.team_id, ticket.assignee_id) == (triage.id, dispatcher.id)


ROUNDS_OF_TICKETS = 40
AGENTS = 2


def test_two_agents_pressing_together_never_get_the_same_ticket(scratch_engine: Engine) -> None:
    factory = create_session_factory(scratch_engine)
    clock = FrozenClock(START)
    with UnitOfWork(factory, bus=EventBus(), clock=clock) as uow:
        team = make_team(uow)
        agents = [make_agent(uow, teams=[team], password=None) for _ in range(AGENTS)]
        customer = make_customer(uow)
        for number in range(ROUNDS_OF_TICKETS):
            make_ticket(uow, requester=customer, team_id=team.id, priority=f"P{number % 4 + 1}")
        for agent in agents:
            go_online(uow, agent, max_concurrent=ROUNDS_OF_TICKETS, capacity=500)
            agent.is_senior = True
        uow.commit()
        actors = [principal_of(uow, agent) for agent in agents]

    barrier = threading.Barrier(AGENTS)
    taken: dict[int, list[int]] = {actor.id or 0: [] for actor in actors}
    errors: list[BaseException] = []

    def press(actor: Principal) -> None:
        try:
            while True:
                barrier.wait(timeout=30)  # both press at the same moment, every round
                with UnitOfWork(factory, bus=EventBus(), clock=clock) as uow:
                    ticket_id = _pull(uow, actor)
                if ticket_id is None:
                    barrier.abort()  # the queue is empty: the other agent stops too
                    return
                taken[actor.id or 0].append(ticket_id)
        except threading.BrokenBarrierError:
            return
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=press, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    everything = [ticket_id for ids in taken.values() for ticket_id in ids]
    assert len(everything) == len(set(everything)) == ROUNDS_OF_TICKETS
    assert all(ids for ids in taken.values())  # both agents got work
    with UnitOfWork(factory, clock=clock) as uow:
        for agent_id, ids in taken.items():
            for ticket_id in ids:
                ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
                assert (ticket.assignee_id, ticket.version) == (agent_id, 2)
