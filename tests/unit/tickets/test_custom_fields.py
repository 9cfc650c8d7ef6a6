import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.kit.errors import ValidationFailed
from closeloop.tickets.custom_fields.domain import (
    MAX_TEXT_LENGTH,
    FieldSpec,
    FieldType,
    validate_custom_fields,
    validate_definition,
    validate_field_key,
)

SUMMARY = FieldSpec("summary", FieldType.text, is_required=True, label="Summary")
AMOUNT = FieldSpec("amount", FieldType.number, is_required=False, label="Amount")
DUE_ON = FieldSpec("due_on", FieldType.date, is_required=False, label="Due on")
REGION = FieldSpec("region", FieldType.select, is_required=True, options=("华东", "华北", "south"))
SPECS = (SUMMARY, AMOUNT, DUE_ON, REGION)
VALID = {"summary": "Printer", "amount": 3, "due_on": "2025-02-28", "region": "华东"}


def problems(
    specs: tuple[FieldSpec, ...], values: Mapping[str, object], *, partial: bool = False
) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as raised:
        validate_custom_fields(specs, values, partial=partial)
    return raised.value.errors


def codes(specs: tuple[FieldSpec, ...], values: Mapping[str, object]) -> list[tuple[str, str]]:
    return [(error["field"], error["code"]) for error in problems(specs, values)]


def test_valid_values_come_back_cleaned_in_spec_order() -> None:
    values = {"region": "华东", "due_on": "2025-02-28", "amount": 12.5, "summary": "  打印机坏了 "}
    assert validate_custom_fields(SPECS, values) == {
        "summary": "打印机坏了",
        "amount": 12.5,
        "due_on": "2025-02-28",
        "region": "华东",
    }
    assert list(validate_custom_fields(SPECS, values)) == ["summary", "amount", "due_on", "region"]


def test_no_specs_and_no_values_give_nothing() -> None:
    assert validate_custom_fields((), {}) == {}


def test_unknown_field_is_refused() -> None:
    assert problems(SPECS, {**VALID, "colour": "red"}) == [
        {
            "field": "custom_fields.colour",
            "code": "unknown_field",
            "message": "There is no custom field colour.",
        }
    ]


def test_missing_required_field_is_refused() -> None:
    assert problems(SPECS, {"amount": 1, "region": "south"}) == [
        {"field": "custom_fields.summary", "code": "required", "message": "Summary is required."}
    ]


def test_partial_update_may_leave_required_fields_out() -> None:
    assert validate_custom_fields(SPECS, {"amount": 1}, partial=True) == {"amount": 1}


def test_partial_update_still_refuses_clearing_a_required_field() -> None:
    assert codes(SPECS, {"summary": None}) == [
        ("custom_fields.summary", "required"),
        ("custom_fields.region", "required"),
    ]
    assert problems(SPECS, {"region": None}, partial=True) == [
        {"field": "custom_fields.region", "code": "required", "message": "region is required."}
    ]


def test_none_clears_an_optional_field() -> None:
    assert validate_custom_fields(SPECS, {**VALID, "amount": None, "due_on": None}) == {
        "summary": "Printer",
        "amount": None,
        "due_on": None,
        "region": "华东",
    }


def test_blank_text_clears_an_optional_field() -> None:
    note = FieldSpec("note", FieldType.text, is_required=False)
    assert validate_custom_fields((note,), {"note": " \t\n "}) == {"note": None}


def test_blank_text_is_refused_for_a_required_field() -> None:
    assert codes(SPECS, {**VALID, "summary": "   "}) == [("custom_fields.summary", "required")]


def test_text_up_to_the_limit_is_kept_after_stripping() -> None:
    text = "字" * MAX_TEXT_LENGTH
    assert validate_custom_fields((SUMMARY,), {"summary": f"  {text}\n"}) == {"summary": text}


def test_text_over_the_limit_is_refused() -> None:
    assert problems((SUMMARY,), {"summary": "a" * (MAX_TEXT_LENGTH + 1)}) == [
        {
            "field": "custom_fields.summary",
            "code": "too_long",
            "message": "Summary is longer than 2000 characters.",
        }
    ]


@pytest.mark.parametrize(
    "number", [0, -7, 10**30, 2.5, -0.0, 1e300], ids=lambda number: f"{number!r}_case"
)
def test_numbers_are_kept_as_given(number: float) -> None:
    cleaned = validate_custom_fields((AMOUNT,), {"amount": number})
    assert cleaned == {"amount": number}
    assert type(cleaned["amount"]) is type(number)


@pytest.mark.parametrize(
    "value",
    [True, False, "12", "1.5", math.nan, math.inf, -math.inf],
    ids=[
        "true_case",
        "false_case",
        "integer_string_case",
        "decimal_string_case",
        "nan_case",
        "infinity_case",
        "negative_infinity_case",
    ],
)
def test_number_refuses_booleans_strings_and_non_finite_values(value: object) -> None:
    assert codes((AMOUNT,), {"amount": value}) == [("custom_fields.amount", "wrong_type")]


def test_date_is_returned_as_given() -> None:
    assert validate_custom_fields((DUE_ON,), {"due_on": "2024-02-29"}) == {"due_on": "2024-02-29"}


@pytest.mark.parametrize(
    "value",
    [
        "2025-02-29",
        "2025-13-01",
        "2025-2-3",
        "20250203",
        "2025-W01-1",
        "2025-02-03T00:00",
        " 2025-02-03",
        "2025-02-03\n",
        "２０２５-02-03",
        "",
        "tomorrow",
    ],
    ids=[
        "not_leap_case",
        "month_case",
        "short_case",
        "basic_case",
        "week_case",
        "time_case",
        "space_case",
        "newline_case",
        "full_width_case",
        "empty_case",
        "word_case",
    ],
)
def test_invalid_dates_are_refused(value: str) -> None:
    assert problems((DUE_ON,), {"due_on": value}) == [
        {
            "field": "custom_fields.due_on",
            "code": "invalid_date",
            "message": "Due on must be a date written YYYY-MM-DD.",
        }
    ]


def test_date_that_is_not_a_string_is_the_wrong_type() -> None:
    assert codes((DUE_ON,), {"due_on": 20250203}) == [("custom_fields.due_on", "wrong_type")]


def test_select_refuses_values_outside_its_options() -> None:
    assert problems(SPECS, {**VALID, "region": "South"}) == [
        {
            "field": "custom_fields.region",
            "code": "not_an_option",
            "message": "region must be one of: 华东, 华北, south.",
        }
    ]


def test_all_problems_are_reported_at_once() -> None:
    values = {"summary": 5, "amount": "5", "due_on": "2025-02-30", "region": "x", "extra": 1}
    assert codes(SPECS, values) == [
        ("custom_fields.extra", "unknown_field"),
        ("custom_fields.summary", "wrong_type"),
        ("custom_fields.amount", "wrong_type"),
        ("custom_fields.due_on", "invalid_date"),
        ("custom_fields.region", "not_an_option"),
    ]


def test_errors_are_raised_as_validation_failed() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_custom_fields(SPECS, {})
    assert raised.value.code == "validation_failed"
    assert raised.value.http_status == 422
    assert raised.value.extensions() == {"errors": raised.value.errors}


def test_duplicate_spec_keys_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="duplicate keys"):
        validate_custom_fields((AMOUNT, AMOUNT), {})


# --- properties ------------------------------------------------------------------------------

field_keys = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)
options = st.lists(st.text(min_size=1, max_size=10).filter(str.strip), min_size=1, max_size=5)


@st.composite
def field_specs(draw: st.DrawFn) -> FieldSpec:
    field_type = draw(st.sampled_from(FieldType))
    return FieldSpec(
        key=draw(field_keys),
        field_type=field_type,
        is_required=draw(st.booleans()),
        options=tuple(draw(options)) if field_type is FieldType.select else (),
        label=draw(st.text(max_size=10)),
    )


spec_lists = st.lists(field_specs(), min_size=1, max_size=6, unique_by=lambda spec: spec.key)
finite_numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
iso_dates = st.dates().map(date.isoformat)
non_blank_texts = st.text(max_size=MAX_TEXT_LENGTH).filter(str.strip)
json_containers = st.lists(st.integers(), max_size=2) | st.dictionaries(
    st.text(max_size=3), st.integers(), max_size=2
)


def valid_value(spec: FieldSpec) -> st.SearchStrategy[object]:
    match spec.field_type:
        case FieldType.text:
            return non_blank_texts
        case FieldType.number:
            return finite_numbers
        case FieldType.date:
            return iso_dates
        case FieldType.select:
            return st.sampled_from(spec.options)


def wrong_type_value(spec: FieldSpec) -> st.SearchStrategy[object]:
    """JSON values of any type but the one the field takes (null clears, so it is left out)."""
    if spec.field_type is FieldType.number:
        return st.booleans() | st.text() | json_containers
    return st.booleans() | finite_numbers | json_containers


@given(spec_lists, st.data())
def test_valid_values_always_pass_and_come_back_cleaned(
    specs: list[FieldSpec], data: st.DataObject
) -> None:
    values = {spec.key: data.draw(valid_value(spec), label=spec.key) for spec in specs}
    expected = {
        key: value.strip()
        if isinstance(value, str) and spec.field_type is FieldType.text
        else value
        for spec, (key, value) in zip(specs, values.items(), strict=True)
    }
    assert validate_custom_fields(specs, values) == expected


@given(spec_lists, st.data())
def test_leaving_out_optional_fields_always_passes(
    specs: list[FieldSpec], data: st.DataObject
) -> None:
    values = {
        spec.key: data.draw(valid_value(spec), label=spec.key) for spec in specs if spec.is_required
    }
    assert set(validate_custom_fields(specs, values)) == set(values)


@given(field_specs(), st.data())
def test_any_value_of_the_wrong_json_type_is_refused(spec: FieldSpec, data: st.DataObject) -> None:
    value = data.draw(wrong_type_value(spec), label="value")
    assert codes((spec,), {spec.key: value}) == [(f"custom_fields.{spec.key}", "wrong_type")]


@given(spec_lists, st.data())
def test_every_bad_field_is_reported_once(specs: list[FieldSpec], data: st.DataObject) -> None:
    bad = data.draw(st.lists(st.sampled_from(specs), min_size=1, unique_by=lambda s: s.key))
    bad_keys = {spec.key for spec in bad}
    values = {
        spec.key: data.draw(wrong_type_value(spec) if spec.key in bad_keys else valid_value(spec))
        for spec in specs
    }
    assert codes(tuple(specs), values) == [
        (f"custom_fields.{spec.key}", "wrong_type") for spec in specs if spec.key in bad_keys
    ]


# --- definitions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["a", "order_no", "x1_2", "a" * 64], ids=lambda key: f"{key[:8]}_case"
)
def test_valid_field_keys_pass(key: str) -> None:
    validate_field_key(key)


@pytest.mark.parametrize(
    "key",
    ["", "1abc", "_a", "Abc", "a-b", "a b", "a" * 65, "订单", "a\n", "ａ", "é"],
    ids=[
        "empty_case",
        "digit_case",
        "underscore_case",
        "upper_case",
        "dash_case",
        "space_case",
        "long_case",
        "chinese_case",
        "newline_case",
        "full_width_case",
        "accent_case",
    ],
)
def test_invalid_field_keys_are_refused(key: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_field_key(key)
    assert [(error["field"], error["code"]) for error in raised.value.errors] == [
        ("key", "invalid_key")
    ]


@given(field_keys)
def test_keys_matching_the_pattern_always_pass(key: str) -> None:
    validate_field_key(key)


def definition_problems(
    field_type: FieldType | str, choices: list[str], key: str | None = None
) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        validate_definition(field_type, choices, key=key)
    return [(error["field"], error["code"]) for error in raised.value.errors]


def test_select_with_distinct_options_is_valid() -> None:
    validate_definition(FieldType.select, ["华东", "华北"], key="region")
    validate_definition("select", ["only"])


@pytest.mark.parametrize("field_type", ["text", "number", "date"], ids=lambda name: f"{name}_case")
def test_other_types_without_options_are_valid(field_type: str) -> None:
    validate_definition(field_type, [])


def test_select_without_options_is_refused() -> None:
    assert definition_problems(FieldType.select, []) == [("options", "options_required")]


def test_select_with_duplicate_options_is_refused() -> None:
    assert definition_problems(FieldType.select, ["a", "b", "a"]) == [
        ("options", "duplicate_option")
    ]


def test_select_with_blank_option_is_refused() -> None:
    assert definition_problems(FieldType.select, ["a", " "]) == [("options", "blank_option")]


@pytest.mark.parametrize("field_type", list(FieldType)[:3], ids=lambda kind: f"{kind}_case")
def test_options_on_other_types_are_refused(field_type: FieldType) -> None:
    assert definition_problems(field_type, ["a"]) == [("options", "options_not_allowed")]


def test_unknown_field_type_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_definition("checkbox", [])
    assert raised.value.errors == [
        {
            "field": "field_type",
            "code": "unknown_field_type",
            "message": "The field type must be one of: text, number, date, select.",
        }
    ]


def test_definition_problems_are_reported_at_once() -> None:
    assert definition_problems("select", ["", ""], key="Bad Key") == [
        ("key", "invalid_key"),
        ("options", "blank_option"),
        ("options", "duplicate_option"),
    ]
