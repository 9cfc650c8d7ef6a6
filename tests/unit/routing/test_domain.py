"""The small rules of routing's vocabulary."""

from __future__ import annotations

from datetime import time

import pytest

from closeloop.routing.domain import (
    ShiftSpec,
    is_ping_pong,
    is_vip,
    needs_senior,
    shift_problems,
    weighted_load,
)


def test_load_weighs_open_tickets_by_priority() -> None:
    assert weighted_load({"P1": 2, "P2": 1, "P3": 1, "P4": 3}) == 2 * 4 + 3 + 2 + 3
    assert weighted_load({}) == 0


@pytest.mark.parametrize(
    ("customer", "company", "vip"),
    [
        pytest.param("standard", None, False, id="standard_case"),
        pytest.param("vip", None, True, id="vip_customer_case"),
        pytest.param("standard", "vip", True, id="vip_company_case"),
    ],
)
def test_vip_comes_from_the_customer_or_the_company(
    customer: str, company: str | None, vip: bool
) -> None:
    assert is_vip(customer_tier=customer, company_tier=company) is vip
    assert needs_senior(priority="P3", vip=vip) is vip
    assert needs_senior(priority="P1", vip=False)


def test_shift_problems() -> None:
    assert shift_problems(ShiftSpec(0, time(9), time(18), "UTC")) == []
    assert shift_problems(ShiftSpec(7, time(9), time(9), "UTC")) == [
        "weekday must be 0 (Monday) … 6 (Sunday)",
        "a shift must not start and end at the same time",
    ]


@pytest.mark.parametrize(
    ("transfers", "threshold", "expected"),
    [
        pytest.param(2, 3, False, id="below_case"),
        pytest.param(3, 3, True, id="at_case"),
        pytest.param(5, 3, True, id="above_case"),
        pytest.param(9, 0, False, id="switched_off_case"),
    ],
)
def test_ping_pong_at_the_threshold(transfers: int, threshold: int, expected: bool) -> None:
    assert is_ping_pong(transfers=transfers, threshold=threshold) is expected
