"""Assignment strategies: properties over random teams, and the cases that matter by hand."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.routing.assigners import (
    AgentSnapshot,
    Reason,
    TicketNeeds,
    choose_agent,
    has_room,
    in_shift,
    is_available,
)
from closeloop.routing.domain import AgentStatus, ShiftSpec, Strategy, weight_of

# A Wednesday, 10:00 in Shanghai.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SHANGHAI = "Asia/Shanghai"
PRIORITIES = ("P1", "P2", "P3", "P4")
AUTOMATIC = (Strategy.round_robin, Strategy.least_load, Strategy.skills)


def online(agent_id: int, **fields: object) -> AgentSnapshot:
    return replace(AgentSnapshot(agent_id=agent_id, status=AgentStatus.online), **fields)  # type: ignore[arg-type]


shifts = st.builds(
    ShiftSpec,
    weekday=st.integers(0, 6),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    time_zone=st.sampled_from([SHANGHAI, "UTC", "Europe/Berlin"]),
)
agents = st.builds(
    AgentSnapshot,
    agent_id=st.integers(1, 10_000),
    status=st.sampled_from(list(AgentStatus)),
    is_senior=st.booleans(),
    capacity=st.integers(1, 30),
    max_concurrent=st.integers(1, 12),
    open_tickets=st.integers(0, 12),
    load=st.integers(0, 40),
    skills=st.dictionaries(st.integers(1, 4), st.integers(1, 5), max_size=4),
    last_assigned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    shifts=st.lists(shifts, max_size=3).map(tuple),
)
teams = st.lists(agents, max_size=8, unique_by=lambda a: a.agent_id)
needs = st.builds(
    TicketNeeds,
    priority=st.sampled_from(PRIORITIES),
    vip=st.booleans(),
    required_skills=st.dictionaries(st.integers(1, 4), st.integers(1, 5), max_size=3),
)
# Any minute of two years around NOW.
instants = st.integers(-365 * 24 * 60, 365 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m))


@given(agent_count=st.integers(1, 9), rounds=st.integers(1, 200))
def test_round_robin_is_fair_over_many_rounds(agent_count: int, rounds: int) -> None:
    team = {n: online(n, capacity=10_000, max_concurrent=10_000) for n in range(1, agent_count + 1)}
    given_to: Counter[int] = Counter()
    now = NOW
    for _ in range(rounds):
        choice = choose_agent(Strategy.round_robin, TicketNeeds(), list(team.values()), now=now)
        assert choice.agent_id is not None
        given_to[choice.agent_id] += 1
        team[choice.agent_id] = replace(team[choice.agent_id], last_assigned_at=now)
        now += timedelta(seconds=1)

    counts = [given_to[agent_id] for agent_id in team]
    assert max(counts) - min(counts) <= 1


@given(team=teams, ticket=needs, strategy=st.sampled_from(AUTOMATIC), now=instants)
def test_nobody_gets_work_above_capacity_or_when_unavailable(
    team: list[AgentSnapshot], ticket: TicketNeeds, strategy: Strategy, now: datetime
) -> None:
    choice = choose_agent(strategy, ticket, team, now=now)

    if choice.agent_id is None:
        return
    chosen = next(agent for agent in team if agent.agent_id == choice.agent_id)
    assert chosen.status is AgentStatus.online
    assert not chosen.shifts or any(in_shift(shift, now) for shift in chosen.shifts)
    assert chosen.open_tickets + 1 <= chosen.max_concurrent
    assert chosen.load + weight_of(ticket.priority) <= chosen.capacity


@given(team=teams, ticket=needs, strategy=st.sampled_from(AUTOMATIC), now=instants)
def test_vip_and_p1_go_to_a_senior_whenever_one_can_take_them(
    team: list[AgentSnapshot], ticket: TicketNeeds, strategy: Strategy, now: datetime
) -> None:
    choice = choose_agent(strategy, ticket, team, now=now)

    senior_can_take = any(
        a.is_senior and is_available(a, now) and has_room(a, ticket.priority) for a in team
    )
    if (ticket.vip or ticket.priority == "P1") and senior_can_take:
        assert choice.seniors_only
        if choice.agent_id is not None:
            assert next(a for a in team if a.agent_id == choice.agent_id).is_senior


@given(team=teams, ticket=needs, now=instants)
def test_least_load_picks_the_lowest_relative_load(
    team: list[AgentSnapshot], ticket: TicketNeeds, now: datetime
) -> None:
    choice = choose_agent(Strategy.least_load, ticket, team, now=now)

    if choice.agent_id is None:
        return
    chosen = next(a for a in team if a.agent_id == choice.agent_id)
    rivals = [
        a
        for a in team
        if is_available(a, now)
        and has_room(a, ticket.priority)
        and (a.is_senior or not choice.seniors_only)
    ]
    assert all(chosen.load * a.capacity <= a.load * chosen.capacity for a in rivals)


@pytest.mark.parametrize("status", [AgentStatus.away, AgentStatus.offline])
def test_away_and_offline_agents_get_nothing(status: AgentStatus) -> None:
    team = [online(1, status=status), online(2, status=status)]

    choice = choose_agent(Strategy.least_load, TicketNeeds(), team, now=NOW)

    assert (choice.agent_id, choice.reason) == (None, Reason.nobody_available)


def test_manual_strategy_assigns_nobody() -> None:
    choice = choose_agent(Strategy.manual, TicketNeeds(), [online(1)], now=NOW)

    assert (choice.agent_id, choice.reason) == (None, Reason.manual)


def test_an_empty_team_and_a_full_team_are_told_apart() -> None:
    full = online(1, open_tickets=3, max_concurrent=3)
    heavy = online(2, load=19, capacity=20)

    def choose(priority: str, team: list[AgentSnapshot]) -> tuple[int | None, Reason]:
        choice = choose_agent(Strategy.round_robin, TicketNeeds(priority=priority), team, now=NOW)
        return choice.agent_id, choice.reason

    assert choose("P2", []) == (None, Reason.no_members)
    assert choose("P2", [full, heavy]) == (None, Reason.all_at_capacity)
    # A P4 ticket weighs 1: it still fits the heavy agent's capacity.
    assert choose("P4", [full, heavy]) == (2, Reason.round_robin)


def test_least_load_weighs_priorities_against_capacity() -> None:
    # Agent 1: two P1 tickets (load 8) of capacity 10; agent 2: four P4 tickets (load 4) of 20.
    team = [online(1, load=8, open_tickets=2, capacity=10), online(2, load=4, open_tickets=4)]

    assert choose_agent(Strategy.least_load, TicketNeeds(), team, now=NOW).agent_id == 2


def test_skills_prefer_the_best_match_then_the_least_load() -> None:
    needs_sap = TicketNeeds(required_skills={1: 3, 2: 2})
    team = [
        online(1, skills={1: 5}, load=0),
        online(2, skills={1: 3, 2: 2}, load=10),
        online(3, skills={1: 4, 2: 4}, load=12),
        online(4, skills={1: 4, 2: 4}, load=6),
        online(5, skills={}, load=0),
    ]

    choice = choose_agent(Strategy.skills, needs_sap, team, now=NOW)

    assert (choice.agent_id, choice.reason) == (4, Reason.best_skill_match)
    nobody = choose_agent(Strategy.skills, TicketNeeds(required_skills={9: 1}), team, now=NOW)
    assert (nobody.agent_id, nobody.reason) == (None, Reason.no_skill_match)
    # Without needed skills the skills strategy is least load.
    assert choose_agent(Strategy.skills, TicketNeeds(), team, now=NOW).agent_id == 1


def test_p1_falls_back_to_anyone_when_no_senior_can_take_it() -> None:
    team = [online(1, is_senior=True, status=AgentStatus.away), online(2)]

    choice = choose_agent(Strategy.least_load, TicketNeeds(priority="P1"), team, now=NOW)

    assert (choice.agent_id, choice.seniors_only) == (2, False)


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        pytest.param(ShiftSpec(2, time(9), time(18), SHANGHAI), True, id="inside_case"),
        pytest.param(ShiftSpec(2, time(10), time(18), SHANGHAI), True, id="starts_now_case"),
        pytest.param(ShiftSpec(2, time(6), time(10), SHANGHAI), False, id="ended_now_case"),
        pytest.param(ShiftSpec(1, time(9), time(18), SHANGHAI), False, id="other_day_case"),
        pytest.param(ShiftSpec(2, time(9), time(18), "UTC"), False, id="other_zone_case"),
        pytest.param(ShiftSpec(1, time(22), time(11), SHANGHAI), True, id="overnight_case"),
        pytest.param(ShiftSpec(2, time(22), time(11), SHANGHAI), False, id="overnight_late_case"),
        pytest.param(ShiftSpec(2, time(9), time(18), "Mars/Base"), False, id="bad_zone_case"),
    ],
)
def test_shifts_are_read_in_their_time_zone(shift: ShiftSpec, expected: bool) -> None:
    assert in_shift(shift, NOW) is expected
    agent = online(1, shifts=(shift,))
    assert is_available(agent, NOW) is expected
    assert is_available(online(1), NOW)  # no shifts: available whenever online
