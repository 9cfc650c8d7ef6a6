"""Routing rules: table tests in Chinese and English, first match wins, disabled rules never fire,
and the shapes of regular expressions refused at save time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.routing.rules import (
    Actions,
    Condition,
    MatchMode,
    Operator,
    Rule,
    TicketFacts,
    evaluate,
    pattern_problems,
    rule_problems,
)


def rule(
    rule_id: int,
    *conditions: Condition,
    position: int | None = None,
    is_active: bool = True,
    match: MatchMode = MatchMode.all,
    **actions: Any,
) -> Rule:
    return Rule(
        id=rule_id,
        name=f"rule {rule_id}",
        conditions=conditions,
        actions=Actions(**(actions or {"team_id": rule_id})),
        match=match,
        is_active=is_active,
        position=rule_id if position is None else position,
    )


def when(field: str, operator: str, value: Any, *, negate: bool = False) -> Condition:
    return Condition(field=field, operator=Operator(operator), value=value, negate=negate)


FACTS = TicketFacts(
    subject="打印机无法连接 Printer OFFLINE",
    body="三楼的打印机从早上开始就连不上了，错误代码 E-1024。",
    type="fault",
    priority="P3",
    channel="email",
    custom_fields={"product": "ERP 云", "seats": 40},
    customer_tier="vip",
    company_id=7,
    company_name="星辰科技",
    company_tier="vip",
    tags=("printer", "三楼"),
)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(when("text", "contains", "打印机"), True, id="chinese_keyword_case"),
        pytest.param(when("text", "contains", ["退款", "连不上"]), True, id="chinese_any_of_case"),
        pytest.param(when("subject", "contains", "printer offline"), True, id="english_ci_case"),
        pytest.param(when("subject", "contains", "ＯＦＦＬＩＮＥ"), True, id="full_width_case"),
        pytest.param(when("body", "contains", "printer"), False, id="not_in_body_case"),
        pytest.param(when("body", "contains", "退款"), False, id="chinese_absent_case"),
        pytest.param(when("text", "matches", r"错误代码\s*E-\d+"), True, id="chinese_regex_case"),
        pytest.param(when("subject", "matches", r"^printer"), False, id="anchored_regex_case"),
        pytest.param(when("subject", "matches", r"printer\s+offline"), True, id="regex_ci_case"),
        pytest.param(when("type", "equals", "fault"), True, id="type_equals_case"),
        pytest.param(when("priority", "in", ["P1", "P2"]), False, id="priority_in_case"),
        pytest.param(when("channel", "equals", "email"), True, id="channel_case"),
        pytest.param(when("status", "equals", "new"), True, id="status_case"),
        pytest.param(when("team_id", "equals", 3), False, id="no_team_case"),
        pytest.param(when("customer.tier", "equals", "vip"), True, id="customer_tier_case"),
        pytest.param(when("company.tier", "in", ["vip"]), True, id="company_tier_case"),
        pytest.param(when("company.id", "in", [7, 8]), True, id="company_id_case"),
        pytest.param(when("company.name", "contains", "星辰"), True, id="company_name_case"),
        pytest.param(when("custom.product", "contains", "erp"), True, id="custom_text_case"),
        pytest.param(when("custom.seats", "equals", 40), True, id="custom_number_case"),
        pytest.param(when("custom.missing", "equals", "x"), False, id="custom_missing_case"),
        pytest.param(when("tags", "contains", "三楼"), True, id="chinese_tag_case"),
        pytest.param(when("tags", "contains", "print"), False, id="tag_is_whole_case"),
        pytest.param(when("text", "contains", "打印机", negate=True), False, id="not_case"),
        pytest.param(when("priority", "equals", "P1", negate=True), True, id="not_equals_case"),
        pytest.param(when("custom.missing", "equals", "x", negate=True), True, id="not_none_case"),
    ],
)
def test_condition_table(condition: Condition, expected: bool) -> None:
    decision = evaluate([rule(1, condition)], FACTS)

    assert decision.fired is expected
    assert decision.results[0].conditions[0].matched is expected


def test_the_first_matching_rule_by_position_fires() -> None:
    rules = [
        rule(1, when("text", "contains", "退款"), position=1),
        rule(2, when("text", "contains", "打印机"), position=3),
        rule(3, when("subject", "contains", "printer"), position=2),
    ]

    decision = evaluate(rules, FACTS)

    assert decision.rule_id == 3
    assert decision.actions == Actions(team_id=3)
    # Evaluation stopped at the match: the later rule was not looked at.
    assert [r.rule_id for r in decision.results] == [1, 3]


def test_a_dry_run_explains_every_rule() -> None:
    rules = [
        rule(1, when("text", "contains", "退款")),
        rule(2, when("text", "contains", "打印机")),
        rule(3, when("subject", "contains", "printer")),
        rule(4, when("text", "contains", "打印机"), is_active=False),
    ]

    decision = evaluate(rules, FACTS, explain=True)

    assert [(r.rule_id, r.matched, r.fired, r.is_active) for r in decision.results] == [
        (1, False, False, True),
        (2, True, True, True),
        (3, True, False, True),
        (4, False, False, False),
    ]
    assert decision.results[1].conditions[0].found == "打印机"
    assert decision.results[0].conditions[0].actual is None  # long text is not echoed


def test_any_mode_and_empty_conditions() -> None:
    either = rule(
        1, when("text", "contains", "退款"), when("channel", "equals", "email"), match=MatchMode.any
    )
    both = rule(2, when("text", "contains", "退款"), when("channel", "equals", "email"))

    assert evaluate([both, either], FACTS).rule_id == 1
    assert evaluate([rule(5)], FACTS).rule_id == 5


@given(
    rules=st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(0, 5)), min_size=1, max_size=12
    )
)
def test_first_match_wins_and_disabled_rules_never_fire(
    rules: list[tuple[bool, bool, int]],
) -> None:
    built = [
        rule(
            index + 1,
            when("text", "contains", "打印机" if matching else "退款"),
            is_active=active,
            position=position,
        )
        for index, (matching, active, position) in enumerate(rules)
    ]
    expected = next(
        (
            r.id
            for r in sorted(built, key=lambda r: (r.position, r.id))
            if r.is_active and r.conditions[0].value == "打印机"
        ),
        None,
    )

    decision = evaluate(built, FACTS, explain=True)

    assert decision.rule_id == expected
    assert sum(r.fired for r in decision.results) == (expected is not None)
    assert not any(r.fired or r.matched for r in decision.results if not r.is_active)


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(r"退款|refund", id="alternation_case"),
        pytest.param(r"(无法|不能)登录", id="chinese_group_case"),
        pytest.param(r"error\s*code\s*\d+", id="separated_repeats_case"),
        pytest.param(r"[a-z]+@[a-z]+\.com", id="email_case"),
        pytest.param(r"(\d{1,3}\.){3}\d{1,3}", id="bounded_nested_case"),
        pytest.param(r"vpn.*(断开|disconnect)", id="one_wide_repeat_case"),
        pytest.param(r"\bSAP\b", id="word_boundary_case"),
        pytest.param(r"[^@\s]+@[^@\s]+", id="negated_classes_case"),
        pytest.param(r"[^a-z@]+@x", id="negated_range_case"),
        pytest.param(r"(?>a+)b", id="atomic_group_case"),
        pytest.param(r"(?=订单)\w+", id="lookahead_case"),
        pytest.param(r"(?:(?=a)b)+x", id="lookahead_in_repeat_case"),
        pytest.param(r"(?:(?>c)d)+x", id="atomic_in_repeat_case"),
    ],
)
def test_useful_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problems(pattern) == []


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        pytest.param("", "empty", id="empty_case"),
        pytest.param("a" * 201, "longer than", id="too_long_case"),
        pytest.param("([", "not a valid", id="invalid_case"),
        pytest.param(r"(a+)+$", "inside another", id="nested_case"),
        pytest.param(r"(\w+\s?)+x", "inside another", id="nested_word_case"),
        pytest.param(r"(a{1,3})+", "inside another", id="variable_inside_case"),
        pytest.param(r"(a|aa)+", "alternation", id="alternation_in_repeat_case"),
        pytest.param(r".*.*x", "follow each other", id="adjacent_case"),
        pytest.param(r".*x.*y", "follow each other", id="swallowed_separator_case"),
        pytest.param(r"\d+\d+", "follow each other", id="overlapping_classes_case"),
        pytest.param(r"a{1,1000}a{1,1000}", "follow each other", id="large_bounds_case"),
        pytest.param(r"(.)\1", "Back-references", id="backreference_case"),
        pytest.param(r"a+b+c+d+e+", "more than", id="too_many_case"),
        pytest.param(r"(?:ab)+(?:ab)+", "follow each other", id="grouped_repeats_case"),
        pytest.param(r"[^x]+[^y]+", "follow each other", id="negated_overlap_case"),
    ],
)
def test_catastrophic_patterns_are_refused(pattern: str, fragment: str) -> None:
    problems = pattern_problems(pattern)

    assert problems
    assert any(fragment in problem for problem in problems)


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        pytest.param(when("owner", "equals", "x"), "unknown_field", id="unknown_field_case"),
        pytest.param(when("custom.Bad Key", "equals", "x"), "unknown_field", id="bad_key_case"),
        pytest.param(when("priority", "contains", "P"), "operator_not_allowed", id="operator_case"),
        pytest.param(when("priority", "in", ["P9"]), "unknown_choice", id="choice_case"),
        pytest.param(when("team_id", "in", ["sales"]), "integer_required", id="id_case"),
        pytest.param(when("text", "in", []), "values_count", id="empty_list_case"),
        pytest.param(when("text", "equals", ["a", "b"]), "one_value", id="equals_list_case"),
        pytest.param(when("text", "contains", [""]), "text_required", id="empty_keyword_case"),
        pytest.param(when("text", "matches", ["a"]), "pattern_required", id="pattern_list_case"),
        pytest.param(when("text", "matches", "(a+)+"), "unsafe_pattern", id="unsafe_case"),
    ],
)
def test_invalid_conditions_are_named(condition: Condition, code: str) -> None:
    problems = rule_problems([condition], Actions(team_id=1))

    assert [p.code for p in problems] == [code]
    assert problems[0].field.startswith("conditions.0.")


def test_a_rule_has_at_most_twenty_conditions() -> None:
    problems = rule_problems([when("text", "contains", "a")] * 21, Actions(team_id=1))

    assert [p.as_dict() for p in problems] == [
        {
            "field": "conditions",
            "code": "too_many",
            "message": "A rule has at most 20 conditions.",
        }
    ]


def test_invalid_actions_are_named() -> None:
    assert [p.code for p in rule_problems([], Actions())] == ["empty"]
    problems = rule_problems(
        [],
        Actions(type="bug", priority="P0", add_tags=("Two Words",), required_skills={1: 9}),
    )
    assert [p.field for p in problems] == [
        "actions.type",
        "actions.priority",
        "actions.add_tags",
        "actions.required_skills.1",
    ]


def test_actions_are_stored_as_what_they_set() -> None:
    actions = Actions(priority="P1", add_tags=("vip",), required_skills={3: 4, 1: 2})

    assert actions.as_dict() == {
        "priority": "P1",
        "add_tags": ["vip"],
        "required_skills": {"1": 2, "3": 4},
    }
