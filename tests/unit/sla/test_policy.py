"""Choosing the policy of a ticket: the first active one whose conditions all hold."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.sla.clock import Target, TargetKind
from closeloop.sla.policy import (
    CONDITION_FIELDS,
    Conditions,
    PolicyRule,
    TargetRule,
    TicketFacts,
    check_conditions,
    choose_policy,
    conditions_from_json,
    explain_match,
    matches,
    targets_for,
)

PRIORITIES = ("P1", "P2", "P3", "P4")
TYPES = ("inquiry", "fault", "complaint", "request")
CHANNELS = ("web", "email", "wechat", "phone")
TIERS = ("standard", "vip")
IDS = (1, 2, 3)
TAGS = ("vpn", "billing", "打印机", "vip-line")


def _subset(values: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values)).map(tuple)


conditions_strategy = st.builds(
    Conditions,
    priorities=_subset(PRIORITIES),
    types=_subset(TYPES),
    channels=_subset(CHANNELS),
    customer_tiers=_subset(TIERS),
    company_ids=_subset(IDS),
    team_ids=_subset(IDS),
    tags=_subset(TAGS),
)
facts_strategy = st.builds(
    TicketFacts,
    priority=st.sampled_from(PRIORITIES),
    type=st.sampled_from(TYPES),
    channel=st.sampled_from(CHANNELS),
    customer_tier=st.sampled_from(TIERS),
    company_id=st.none() | st.sampled_from(IDS),
    team_id=st.none() | st.sampled_from(IDS),
    tags=st.frozensets(st.sampled_from(TAGS), max_size=3),
)


@st.composite
def policies_strategy(draw: st.DrawFn) -> list[PolicyRule]:
    count = draw(st.integers(min_value=0, max_value=6))
    positions = draw(st.lists(st.integers(0, 4), min_size=count, max_size=count))
    return [
        PolicyRule(
            id=index + 1,
            name=f"policy {index + 1}",
            position=position,
            is_active=draw(st.booleans()),
            conditions=draw(conditions_strategy),
        )
        for index, position in enumerate(positions)
    ]


def _holds(conditions: Conditions, facts: TicketFacts) -> bool:
    """The rule written out plainly: every constrained field accepts the ticket's value."""
    single = {
        "priorities": facts.priority,
        "types": facts.type,
        "channels": facts.channel,
        "customer_tiers": facts.customer_tier,
        "company_ids": facts.company_id,
        "team_ids": facts.team_id,
    }
    for name, wanted in single.items():
        accepted = getattr(conditions, name)
        if accepted and wanted not in accepted:
            return False
    return not conditions.tags or bool(set(conditions.tags) & facts.tags)


@given(policies_strategy(), facts_strategy)
def test_the_chosen_policy_is_the_first_active_one_in_position_order_that_holds(
    policies: list[PolicyRule], facts: TicketFacts
) -> None:
    expected = next(
        (
            p
            for p in sorted(policies, key=lambda p: (p.position, p.id))
            if p.is_active and _holds(p.conditions, facts)
        ),
        None,
    )
    assert choose_policy(policies, facts) == expected


@given(policies_strategy(), facts_strategy)
def test_the_order_the_policies_are_given_in_does_not_matter(
    policies: list[PolicyRule], facts: TicketFacts
) -> None:
    assert choose_policy(list(reversed(policies)), facts) == choose_policy(policies, facts)


@given(conditions_strategy, facts_strategy)
def test_matching_is_and_across_fields_and_or_within_a_list(
    conditions: Conditions, facts: TicketFacts
) -> None:
    assert matches(conditions, facts) is _holds(conditions, facts)
    checks = check_conditions(conditions, facts)
    assert [c.field for c in checks] == [n for n in CONDITION_FIELDS if getattr(conditions, n)]
    assert matches(conditions, facts) is all(c.holds for c in checks)


@given(facts_strategy)
def test_no_conditions_match_every_ticket(facts: TicketFacts) -> None:
    assert matches(Conditions(), facts)
    assert check_conditions(Conditions(), facts) == ()


@given(conditions_strategy, facts_strategy, st.sampled_from(CONDITION_FIELDS))
def test_narrowing_a_condition_never_makes_more_tickets_match(
    conditions: Conditions, facts: TicketFacts, field: str
) -> None:
    current: tuple[Any, ...] = getattr(conditions, field)
    if len(current) < 2:
        return
    narrower = Conditions(**{**_as_kwargs(conditions), field: current[:-1]})
    assert not matches(narrower, facts) or matches(conditions, facts)


def _as_kwargs(conditions: Conditions) -> dict[str, Any]:
    return {name: getattr(conditions, name) for name in CONDITION_FIELDS}


@given(policies_strategy(), facts_strategy)
def test_the_explanation_lists_every_policy_in_order_and_agrees_on_the_choice(
    policies: list[PolicyRule], facts: TicketFacts
) -> None:
    result = explain_match(policies, facts)
    assert result.chosen == choose_policy(policies, facts)
    assert [e.policy.id for e in result.evaluations] == [
        p.id for p in sorted(policies, key=lambda p: (p.position, p.id))
    ]
    for evaluation in result.evaluations:
        assert evaluation.matched is _holds(evaluation.policy.conditions, facts)


@given(policies_strategy(), facts_strategy)
def test_an_inactive_policy_is_never_chosen(policies: list[PolicyRule], facts: TicketFacts) -> None:
    chosen = choose_policy(policies, facts)
    assert chosen is None or chosen.is_active


@given(conditions_strategy)
def test_conditions_survive_their_json_form(conditions: Conditions) -> None:
    assert conditions_from_json(conditions.as_json()) == conditions
    assert all(conditions.as_json().values())  # empty lists are left out


def test_the_issue_example_p1_policy_first_then_everything_else() -> None:
    p1 = PolicyRule(1, "P1", 0, True, Conditions(priorities=("P1",)))
    rest = PolicyRule(2, "Everything else", 1, True, Conditions())
    ticket = TicketFacts(priority="P1", type="fault", channel="email")
    assert choose_policy([rest, p1], ticket) == p1
    assert choose_policy([rest, p1], TicketFacts("P3", "fault", "email")) == rest


def test_a_tag_condition_needs_one_of_the_tags() -> None:
    vip_line = Conditions(tags=("vip-line", "vip"))
    assert matches(vip_line, TicketFacts("P3", "fault", "web", tags=frozenset({"vip", "x"})))
    assert not matches(vip_line, TicketFacts("P3", "fault", "web", tags=frozenset({"x"})))
    assert not matches(vip_line, TicketFacts("P3", "fault", "web"))


def test_a_ticket_without_a_team_does_not_match_a_team_condition() -> None:
    check = check_conditions(Conditions(team_ids=(1,)), TicketFacts("P3", "fault", "web"))
    assert [(c.field, c.wanted, c.actual, c.holds) for c in check] == [
        ("team_ids", (1,), None, False)
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"colour": ["red"]}, "unknown condition fields", id="unknown_field_case"),
        pytest.param({"priorities": "P1"}, "must be a list", id="not_a_list_case"),
        pytest.param({"team_ids": ["1"]}, "integer ids", id="string_id_case"),
        pytest.param({"team_ids": [True]}, "integer ids", id="boolean_id_case"),
        pytest.param({"tags": [""]}, "non-empty strings", id="empty_tag_case"),
        pytest.param({"types": [3]}, "non-empty strings", id="number_type_case"),
    ],
)
def test_stored_conditions_that_cannot_be_read_are_refused(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        conditions_from_json(document)


def test_missing_conditions_accept_everything() -> None:
    assert conditions_from_json(None) == Conditions()
    assert conditions_from_json({"priorities": ["P1", "P1"]}) == Conditions(priorities=("P1",))


def test_the_targets_of_a_priority_by_kind() -> None:
    rules = [
        TargetRule("P1", TargetKind.first_response, 15),
        TargetRule("P1", TargetKind.resolution, 120),
        TargetRule("P2", TargetKind.resolution, 1440, business_time=False),
        TargetRule("P1", TargetKind.resolution, 999),  # a duplicate: the first one counts
    ]
    assert targets_for(rules, "P1") == {
        TargetKind.first_response: Target(TargetKind.first_response, 15),
        TargetKind.resolution: Target(TargetKind.resolution, 120),
    }
    assert targets_for(rules, "P2") == {
        TargetKind.resolution: Target(TargetKind.resolution, 1440, business_time=False)
    }
    assert targets_for(rules, "P4") == {}
