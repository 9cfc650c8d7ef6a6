"""Triage at intake, on SQLite and PostgreSQL: rules and predictions set type, priority and
team, the team's strategy assigns, every decision is recorded with its source; what nothing
decides waits in the triage queue; agents' corrections become feedback."""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.builders import make_agent, make_custom_field, make_customer, make_team, principal_of

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.audit import service as audit
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.routing import service as routing
from closeloop.routing.domain import Strategy
from closeloop.routing.models import RoutingDecision, RoutingFeedback, TicketRouting
from closeloop.routing.schemas import ActionsIn, ConditionIn, RuleCreate
from closeloop.routing.service import predictions
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import TicketType
from closeloop.tickets.schemas import TicketCreate, TicketUpdate

from .conftest import staffed_team, use_strategy


def add_rule(uow: UnitOfWork, name: str, keyword: str | list[str], **actions: Any) -> int:
    rule = routing.create_rule(
        uow,
        data=RuleCreate(
            name=name,
            conditions=[ConditionIn(field="text", operator="contains", value=keyword)],
            actions=ActionsIn(**actions),
        ),
        actor=SYSTEM,
        via="test",
    )
    return rule.id


def open_ticket(uow: UnitOfWork, subject: str, **fields: Any) -> int:
    """Open a ticket as its customer would and commit (triage runs in that commit)."""
    customer = fields.pop("requester", None) or make_customer(uow)
    actor = fields.pop("actor", None)
    data = TicketCreate(subject=subject, requester_id=customer.id, **fields)
    ticket = tickets.open_ticket(uow, data=data, actor=actor or SYSTEM, via="test")
    uow.commit()
    return ticket.id


def decisions(uow: UnitOfWork, ticket_id: int) -> list[tuple[str, str | None, str]]:
    rows = uow.session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.ticket_id == ticket_id)
        .order_by(RoutingDecision.id)
    )
    return [(row.field, row.value, row.source) for row in rows]


def timeline_actions(uow: UnitOfWork, ticket_id: int) -> list[tuple[str, str | None, str]]:
    return [
        (entry.action, entry.field, entry.via)
        for entry in audit.timeline(uow, entity_type="ticket", entity_id=ticket_id)
    ]


def test_a_rule_sets_the_team_and_the_team_assigns_with_every_source_recorded(
    uow: UnitOfWork,
) -> None:
    team, agents = staffed_team(uow, Strategy.round_robin)
    rule_id = add_rule(
        uow, "打印机", ["打印机", "printer"], team_id=team.id, priority="P2", add_tags=["打印机"]
    )
    uow.commit()

    ticket_id = open_ticket(uow, "三楼打印机无法连接", description="错误代码 E-1024")

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    assert (ticket.team_id, ticket.priority, ticket.tags) == (team.id, "P2", ["打印机"])
    assert ticket.assignee_id in {agent.id for agent in agents}
    assert ticket.status == "open"
    assert decisions(uow, ticket_id) == [
        ("priority", "P2", "rule"),
        ("team", str(team.id), "rule"),
        ("assignee", str(ticket.assignee_id), "assigner"),
    ]
    entries = audit.timeline(uow, entity_type="ticket", entity_id=ticket_id)
    decided = [e for e in entries if e.action == "routing.decided"]
    assert [(e.field, e.new_value) for e in decided] == [
        ("priority", {"value": "P2", "source": "rule", "rule_id": rule_id, "detail": "打印机"}),
        ("team", {"value": str(team.id), "source": "rule", "rule_id": rule_id, "detail": "打印机"}),
        (
            "assignee",
            {
                "value": str(ticket.assignee_id),
                "source": "assigner",
                "detail": "round_robin: round_robin",
            },
        ),
    ]
    updated = [e for e in entries if e.action == "ticket.updated"]
    assert {e.field for e in updated} == {"priority", "tags", "team_id", "assignee_id", "status"}
    assert {(e.actor_type, e.via) for e in updated} == {("system", "routing:intake")}
    assert audit.verify(uow, entity_type="ticket") == {}


def test_round_robin_takes_turns_across_tickets(uow: UnitOfWork, clock: FrozenClock) -> None:
    team, agents = staffed_team(uow, Strategy.round_robin, agents=3)
    add_rule(uow, "VPN", "vpn", team_id=team.id)
    uow.commit()

    assignees = []
    for n in range(6):
        clock.advance(timedelta(seconds=30))
        ticket_id = open_ticket(uow, f"VPN down {n}")
        assignees.append(tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM))

    counts = {agent.id: sum(t.assignee_id == agent.id for t in assignees) for agent in agents}
    assert sorted(counts.values()) == [2, 2, 2]


def test_nothing_decides_so_the_ticket_waits_in_triage_until_an_agent_gives_it_a_team(
    uow: UnitOfWork,
) -> None:
    team, _agents = staffed_team(uow, Strategy.manual)
    supervisor = make_agent(uow, role=Role.supervisor, password=None)
    add_rule(uow, "退款", "退款", team_id=team.id)
    uow.commit()

    ticket_id = open_ticket(uow, "账号无法登录", description="login fails")

    state = uow.session.get(TicketRouting, ticket_id)
    assert state is not None
    assert (state.in_triage, state.triage_reason) == (True, "no_rule_or_prediction")
    queue = routing.triage_queue(uow, actor=principal_of(uow, supervisor))
    assert [entry.ticket.id for entry in queue] == [ticket_id]
    assert ("routing.triaged", "team", "routing:intake") in timeline_actions(uow, ticket_id)

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    tickets.assign(
        uow,
        ticket_id=ticket_id,
        team_id=team.id,
        assignee_id=None,
        expected_version=ticket.version,
        actor=principal_of(uow, supervisor),
        via="test",
    )
    uow.commit()

    assert routing.triage_queue(uow, actor=principal_of(uow, supervisor)) == []
    feedback = uow.session.scalars(select(RoutingFeedback)).all()
    assert [(f.field, f.predicted, f.corrected, f.source) for f in feedback] == [
        ("team", None, str(team.id), "triage")
    ]


def test_what_the_opener_gave_is_kept(uow: UnitOfWork) -> None:
    team, _agents = staffed_team(uow, Strategy.least_load)
    other = make_team(uow)
    add_rule(uow, "打印机", "打印机", team_id=other.id, priority="P1", type="fault")
    agent = make_agent(uow, teams=[team], password=None)
    uow.commit()

    ticket_id = open_ticket(
        uow,
        "打印机卡纸",
        priority="P4",
        team_id=team.id,
        assignee_id=agent.id,
        actor=principal_of(uow, agent),
    )

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    # Only the type was left open, so only the type follows the rule.
    assert (ticket.type, ticket.priority, ticket.team_id, ticket.assignee_id) == (
        "fault",
        "P4",
        team.id,
        agent.id,
    )
    assert decisions(uow, ticket_id) == [
        ("priority", "P4", "manual"),
        ("team", str(team.id), "manual"),
        ("assignee", str(agent.id), "manual"),
        ("type", "fault", "rule"),
    ]


def test_nobody_available_leaves_the_ticket_in_the_team_queue_and_says_why(
    uow: UnitOfWork,
) -> None:
    team = make_team(uow)
    make_agent(uow, teams=[team], password=None)  # never went online
    use_strategy(uow, team, Strategy.least_load)
    add_rule(uow, "VPN", "VPN", team_id=team.id)
    uow.commit()

    ticket_id = open_ticket(uow, "VPN 断开")

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    assert (ticket.team_id, ticket.assignee_id, ticket.status) == (team.id, None, "new")
    assert decisions(uow, ticket_id)[-1] == ("assignee", None, "assigner")
    last = uow.session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.ticket_id == ticket_id)
        .order_by(RoutingDecision.id.desc())
    ).first()
    assert last is not None
    assert last.detail == "least_load: nobody_available"


def test_vip_customers_go_to_a_senior(uow: UnitOfWork) -> None:
    team, agents = staffed_team(uow, Strategy.least_load, agents=3)
    agents[2].is_senior = True
    add_rule(uow, "VPN", "VPN", team_id=team.id)
    vip = make_customer(uow, tier="vip")
    uow.commit()

    ticket_id = open_ticket(uow, "VPN 断开", requester=vip)

    assert tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM).assignee_id == agents[2].id


def test_a_change_the_ticket_refuses_leaves_it_as_opened_and_in_triage(uow: UnitOfWork) -> None:
    make_custom_field(
        uow,
        key="device_id",
        field_type=FieldType.text,
        ticket_type=TicketType.fault,
        is_required=True,
    )
    add_rule(uow, "故障", "故障", type="fault")
    uow.commit()

    ticket_id = open_ticket(uow, "系统故障")

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    assert (ticket.type, ticket.version) == ("inquiry", 1)
    state = uow.session.get(TicketRouting, ticket_id)
    assert state is not None
    assert (state.in_triage, state.triage_reason) == (True, "change_refused")
    assert decisions(uow, ticket_id) == []
    assert audit.verify(uow, entity_type="ticket") == {}


# --- the classifier ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakePrediction:
    label: str
    confidence: float
    model_id: int


FAKE_CLASSIFIER = "tests.integration.routing.fake_classifier"


@pytest.fixture
def classifier(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A stand-in for the classifier: predictions and thresholds set by the test."""
    state: dict[str, Any] = {"predictions": {}, "thresholds": {}}

    def predict_for_ticket(
        _uow: UnitOfWork, *, subject: str, description: str
    ) -> Mapping[str, FakePrediction]:
        assert subject
        return dict(state["predictions"])

    module = types.ModuleType(FAKE_CLASSIFIER)
    module.predict_for_ticket = predict_for_ticket  # type: ignore[attr-defined]
    module.thresholds = lambda _uow: dict(state["thresholds"])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FAKE_CLASSIFIER, module)
    monkeypatch.setattr(predictions, "CLASSIFIER_MODULES", (FAKE_CLASSIFIER,))
    return state


def test_a_confident_prediction_wins_over_the_rules_and_a_weak_one_does_not(
    uow: UnitOfWork, classifier: dict[str, Any]
) -> None:
    network, _a = staffed_team(uow, Strategy.least_load, name="Network")
    desk, _b = staffed_team(uow, Strategy.least_load, name="Service desk")
    rule_id = add_rule(uow, "VPN", "VPN", team_id=desk.id, priority="P3")
    uow.commit()
    classifier["thresholds"] = {"team": 0.8, "priority": 0.9}
    classifier["predictions"] = {
        "team": FakePrediction("network", 0.93, 7),  # by name, case folded
        "priority": FakePrediction("P1", 0.6, 7),  # below its threshold
        "type": FakePrediction("fault", 0.99, 7),  # no threshold for type: never applied
    }

    ticket_id = open_ticket(uow, "VPN 断开")

    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    assert (ticket.team_id, ticket.priority, ticket.type) == (network.id, "P3", "inquiry")
    rows = uow.session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.ticket_id == ticket_id)
        .order_by(RoutingDecision.id)
    ).all()
    assert [(r.field, r.source, r.rule_id, r.model_id, r.confidence) for r in rows[:2]] == [
        ("priority", "rule", rule_id, None, None),
        ("team", "model", None, 7, pytest.approx(0.93)),
    ]


def test_an_agents_correction_of_a_prediction_is_feedback(
    uow: UnitOfWork, classifier: dict[str, Any]
) -> None:
    team, agents = staffed_team(uow, Strategy.least_load)
    uow.commit()
    classifier["thresholds"] = {"team": 0.5, "priority": 0.5}
    classifier["predictions"] = {
        "team": FakePrediction(str(team.id), 0.7, 3),
        "priority": FakePrediction("P2", 0.8, 3),
    }
    ticket_id = open_ticket(uow, "邮件发不出去")
    agent = principal_of(uow, agents[0])
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)

    tickets.update_fields(
        uow,
        ticket_id=ticket_id,
        data=TicketUpdate(priority="P1", type="fault"),
        expected_version=ticket.version,
        actor=agent,
        via="test",
    )
    uow.commit()

    feedback = uow.session.scalars(select(RoutingFeedback)).all()
    assert [
        (f.field, f.predicted, f.corrected, f.source, f.model_id, f.agent_id) for f in feedback
    ] == [("priority", "P2", "P1", "model", 3, agents[0].id)]
    assert routing.list_feedback(uow)[0].corrected == "P1"


def test_intake_runs_on_rules_alone(uow: UnitOfWork) -> None:
    team, _agents = staffed_team(uow, Strategy.least_load)
    add_rule(uow, "VPN", "vpn", team_id=team.id)
    uow.commit()

    ticket_id = open_ticket(uow, "VPN down")

    assert tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM).team_id == team.id
