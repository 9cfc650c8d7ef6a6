"""Ticket clocks follow the ticket through its life: targets, replies, pauses, re-targets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.builders import make_agent, make_customer, make_ticket, principal_of

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.sla import service as sla
from closeloop.sla.schemas import (
    EscalationStepIn,
    PolicyCreate,
    PolicyUpdate,
    SeedResult,
    TargetIn,
)
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import PendingReason, Priority, TicketStatus
from closeloop.tickets.schemas import MessageCreate, TicketUpdate

from .conftest import advance, clocks_of, sla_timeline

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai


def at(hour: int, minute: int = 0, *, day: int = 25, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _open(make_uow: Callable[[], UnitOfWork], priority: str = "P1", **fields: Any) -> int:
    with make_uow() as uow:
        ticket = make_ticket(uow, requester=make_customer(uow), priority=priority, **fields)
        uow.commit()
        return ticket.id


def _reply(make_uow: Callable[[], UnitOfWork], ticket_id: int) -> None:
    with make_uow() as uow:
        agent = make_agent(uow, role=Role.supervisor, password=None)
        tickets.add_message(
            uow,
            ticket_id=ticket_id,
            data=MessageCreate(body="On it."),
            actor=principal_of(uow, agent),
            via="test",
        )
        uow.commit()


def _customer_writes(make_uow: Callable[[], UnitOfWork], ticket_id: int) -> None:
    with make_uow() as uow:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        customer = accounts.principal_for_customer_id(uow, ticket.requester_id)
        assert customer is not None
        tickets.add_message(
            uow,
            ticket_id=ticket_id,
            data=MessageCreate(body="Any news?"),
            actor=customer,
            via="test",
        )
        uow.commit()


def _move(
    make_uow: Callable[[], UnitOfWork],
    ticket_id: int,
    target: TicketStatus,
    reason: PendingReason | None = None,
) -> None:
    with make_uow() as uow:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        tickets.transition(
            uow,
            ticket_id=ticket_id,
            target=target,
            pending_reason=reason,
            expected_version=ticket.version,
            actor=SYSTEM,
            via="test",
        )
        uow.commit()


@pytest.mark.parametrize(
    ("opened_at", "first_response_due", "resolution_due"),
    [
        pytest.param(T0, at(2, 15), at(4, 0), id="inside_the_desk_hours_case"),
        # 20:55 in Shanghai: 5 minutes today, the rest from 09:00 tomorrow.
        pytest.param(at(12, 55), at(1, 10, day=26), at(2, 55, day=26), id="near_closing_case"),
        # 23:00 in Shanghai: the clock starts when the desk opens.
        pytest.param(at(15, 0), at(1, 15, day=26), at(3, 0, day=26), id="after_hours_case"),
        # 20:55 on 30 September, then the National Day holidays (1-7 October).
        pytest.param(
            at(12, 55, day=30, month=9),
            at(1, 10, day=8, month=10),
            at(2, 55, day=8, month=10),
            id="before_the_holidays_case",
        ),
    ],
)
def test_a_p1_ticket_is_due_15_business_minutes_later_on_the_7x12_desk(
    make_uow: Callable[[], UnitOfWork],
    clock: FrozenClock,
    desk: SeedResult,
    opened_at: datetime,
    first_response_due: datetime,
    resolution_due: datetime,
) -> None:
    clock.set(opened_at)
    ticket_id = _open(make_uow)

    with make_uow() as uow:
        clocks = clocks_of(uow, ticket_id)
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert sorted(clocks) == ["first_response", "resolution"]
        assert clocks["first_response"].due_at == first_response_due
        assert clocks["first_response"].target_minutes == 15
        assert clocks["resolution"].due_at == resolution_due
        assert clocks["first_response"].policy_id == desk.policy_id
        assert ticket.sla_due_at == first_response_due
        assert ticket.sla_state == "running"
        assert ticket.version == 1  # the summary is not a change of the ticket


def test_a_public_reply_meets_the_first_response(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ticket_id = _open(make_uow)
    advance(clock, 10)
    _reply(make_uow, ticket_id)

    with make_uow() as uow:
        clocks = clocks_of(uow, ticket_id)
        first = clocks["first_response"]
        assert (first.state, first.met_at, first.elapsed_seconds) == ("met", at(2, 10), 600)
        assert first.next_check_at is None
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert ticket.sla_due_at == at(4, 0)  # the resolution is the next thing due
        assert ticket.sla_state == "running"
        assert sla_timeline(uow, ticket_id) == [("sla.met", "first_response")]


def test_pending_on_the_customer_pauses_resolution_and_resuming_shifts_the_due_time(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ticket_id = _open(make_uow, priority="P3")  # resolution within 1440 business minutes
    with make_uow() as uow:
        assert clocks_of(uow, ticket_id)["resolution"].due_at == at(2, 0, day=27)
    advance(clock, 60)
    _move(make_uow, ticket_id, TicketStatus.pending, PendingReason.customer)
    advance(clock, 120)

    with make_uow() as uow:
        resolution = clocks_of(uow, ticket_id)["resolution"]
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert resolution.state == "paused"
        assert resolution.next_check_at is None
        assert (ticket.sla_state, ticket.sla_due_at) == ("paused", None)

    _customer_writes(make_uow, ticket_id)  # back to open: the clock runs again

    with make_uow() as uow:
        resolution = clocks_of(uow, ticket_id)["resolution"]
        assert resolution.state == "running"
        assert resolution.paused_seconds == 120 * 60
        assert resolution.elapsed_seconds == 60 * 60
        assert resolution.due_at == at(4, 0, day=27)  # two hours later than before
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert (ticket.sla_state, ticket.sla_due_at) == ("running", at(4, 0, day=27))


def test_a_priority_change_retargets_the_running_clocks_and_keeps_their_history(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ticket_id = _open(make_uow, priority="P3")
    advance(clock, 30)
    with make_uow() as uow:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        tickets.update_fields(
            uow,
            ticket_id=ticket_id,
            data=TicketUpdate(priority=Priority.P1),
            expected_version=ticket.version,
            actor=SYSTEM,
            via="test",
        )
        uow.commit()

    with make_uow() as uow:
        clocks = clocks_of(uow, ticket_id)
        resolution = clocks["resolution"]
        # Still measured from the ticket's creation: 120 business minutes from 02:00.
        assert (resolution.target_minutes, resolution.started_at) == (120, T0)
        assert resolution.due_at == at(4, 0)
        # P1 has a first-response target; 30 minutes without a reply breach it at once.
        first = clocks["first_response"]
        assert (first.state, first.due_at, first.breached_at) == ("breached", at(2, 15), at(2, 15))
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert (ticket.sla_state, ticket.sla_due_at) == ("breached", at(2, 15))
        assert sla_timeline(uow, ticket_id) == [
            ("sla.breached", "first_response"),
            ("sla.retargeted", "resolution"),
        ]


def test_a_customer_message_after_the_first_reply_starts_a_next_response_wait(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    with make_uow() as uow:
        sla.update_policy(
            uow,
            policy_id=desk.policy_id,
            data=_with_next_response(uow, desk.policy_id, minutes=30),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
    ticket_id = _open(make_uow)
    advance(clock, 5)
    _reply(make_uow, ticket_id)
    advance(clock, 5)
    _customer_writes(make_uow, ticket_id)  # 02:10: the customer waits for an answer again

    with make_uow() as uow:
        wait = clocks_of(uow, ticket_id)["next_response"]
        assert (wait.cycle, wait.started_at, wait.due_at, wait.state) == (
            1,
            at(2, 10),
            at(2, 40),
            "running",
        )
    advance(clock, 20)
    _reply(make_uow, ticket_id)
    advance(clock, 5)
    _customer_writes(make_uow, ticket_id)  # 02:35: a second wait

    with make_uow() as uow:
        wait = clocks_of(uow, ticket_id)["next_response"]
        assert (wait.cycle, wait.started_at, wait.due_at, wait.met_at) == (
            2,
            at(2, 35),
            at(3, 5),
            None,
        )
        actions = sla_timeline(uow, ticket_id)
        assert actions.count(("sla.met", "next_response")) == 1


def _with_next_response(uow: UnitOfWork, policy_id: int, *, minutes: int) -> PolicyUpdate:
    policy = sla.get_policy(uow, policy_id=policy_id, actor=SYSTEM)
    targets = [
        TargetIn(priority=t.priority, kind=t.kind, minutes=t.minutes, business_time=t.business_time)
        for t in policy.targets
    ]
    targets.append(TargetIn(priority=Priority.P1, kind="next_response", minutes=minutes))
    return PolicyUpdate(targets=targets)


def test_resolving_meets_the_resolution_and_reopening_resumes_it(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ticket_id = _open(make_uow)
    advance(clock, 10)
    _reply(make_uow, ticket_id)
    advance(clock, 20)
    _move(make_uow, ticket_id, TicketStatus.resolved)

    with make_uow() as uow:
        resolution = clocks_of(uow, ticket_id)["resolution"]
        assert (resolution.state, resolution.met_at) == ("met", at(2, 30))
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
        assert (ticket.sla_state, ticket.sla_due_at) == ("met", None)

    advance(clock, 60)
    _move(make_uow, ticket_id, TicketStatus.open)  # reopened: the hour resolved does not count

    with make_uow() as uow:
        resolution = clocks_of(uow, ticket_id)["resolution"]
        assert (resolution.state, resolution.met_at) == ("running", None)
        assert resolution.elapsed_seconds == 30 * 60
        assert resolution.due_at == at(5, 0)


def test_a_merged_ticket_stops_being_measured(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    with make_uow() as uow:
        customer = make_customer(uow)
        source = make_ticket(uow, requester=customer, priority="P1")
        survivor = make_ticket(uow, requester=customer, priority="P2")
        uow.commit()
        agent = principal_of(uow, make_agent(uow, role=Role.supervisor, password=None))
        tickets.merge_tickets(
            uow,
            source_ticket_id=source.id,
            into_ticket_id=survivor.id,
            expected_version=source.version,
            actor=agent,
            via="test",
        )
        uow.commit()
        source_id, survivor_id = source.id, survivor.id

    with make_uow() as uow:
        assert clocks_of(uow, source_id) == {}
        merged = tickets.get_ticket(uow, ticket_id=source_id, actor=SYSTEM)
        assert (merged.sla_state, merged.sla_due_at) == (None, None)
        assert sorted(clocks_of(uow, survivor_id)) == ["resolution"]


def test_a_policy_created_later_is_applied_to_open_tickets_in_the_background(
    make_uow: Callable[[], UnitOfWork], clock: FrozenClock, desk: SeedResult
) -> None:
    ticket_id = _open(make_uow, priority="P2", tags=["vip-line"])
    with make_uow() as uow:
        created = sla.create_policy(
            uow,
            data=PolicyCreate(
                name="VIP line",
                position=0,
                conditions={"tags": ["vip-line"]},
                targets=[TargetIn(priority=Priority.P2, kind="resolution", minutes=60)],
                escalations=[
                    EscalationStepIn(
                        kind="resolution",
                        after_breach_minutes=0,
                        action="notify_team_lead",
                    )
                ],
            ),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
    with make_uow() as uow:
        assert clocks_of(uow, ticket_id)["resolution"].target_minutes == 1440  # not yet
        assert sla.recompute_tickets(uow) is None  # one batch did every open ticket
        uow.commit()
    with make_uow() as uow:
        resolution = clocks_of(uow, ticket_id)["resolution"]
        assert (resolution.policy_id, resolution.target_minutes) == (created.id, 60)
        assert resolution.due_at == at(3, 0)


def test_seeding_twice_changes_nothing(
    make_uow: Callable[[], UnitOfWork], desk: SeedResult
) -> None:
    with make_uow() as uow:
        again = sla.seed_default_sla(uow, actor=SYSTEM)
        uow.commit()
        assert (again.calendar_id, again.policy_id) == (desk.calendar_id, desk.policy_id)
        assert (again.created_calendar, again.created_policy) == (False, False)
        assert desk.created_calendar
        assert desk.created_policy
        calendar = sla.get_calendar(uow, calendar_id=desk.calendar_id, actor=SYSTEM)
        assert calendar.is_default
        assert calendar.weekly_hours == {
            key: ["09:00-21:00"] for key in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        assert sum(d.kind == "holiday" for d in calendar.days) == 33
        assert sum(d.kind == "makeup_workday" for d in calendar.days) == 6
        policy = sla.get_policy(uow, policy_id=desk.policy_id, actor=SYSTEM)
        assert [(t.priority, t.kind, t.minutes) for t in policy.targets] == [
            ("P1", "first_response", 15),
            ("P1", "resolution", 120),
            ("P2", "resolution", 1440),
            ("P3", "resolution", 1440),
            ("P4", "resolution", 1440),
        ]
        assert [
            (s.kind, s.position, s.at_fraction, s.after_breach_minutes, s.action)
            for s in policy.escalations
            if s.kind == "resolution"
        ] == [
            ("resolution", 0, 0.75, None, "notify_assignee"),
            ("resolution", 1, None, 0, "notify_team_lead"),
            ("resolution", 2, None, 30, "notify_manager"),
            ("resolution", 3, None, 30, "raise_priority"),
        ]
