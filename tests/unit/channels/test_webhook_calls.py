"""A call record as a ticket's subject and body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.channels.webhook.calls import (
    CallFacts,
    call_body,
    call_subject,
    display_phone,
    format_duration,
)

FACTS = CallFacts(
    call_id="c-1001",
    phone="+8613800138000",
    other_party="400-820-8820",
    is_inbound=True,
    started_at=datetime(2026, 11, 25, 2, 3, 4, tzinfo=UTC),
    duration_seconds=205,
    recording_url="https://cc.example.cn/rec/c-1001.mp3",
    agent_note="Wants a refund.",
)


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        pytest.param("+8613800138000", "+86 138 0013 8000", id="mainland_mobile_case"),
        pytest.param("+862161234567", "+862161234567", id="landline_case"),
        pytest.param("+14155550100", "+14155550100", id="other_country_case"),
    ],
)
def test_display_phone(e164: str, shown: str) -> None:
    assert display_phone(e164) == shown


def test_subject_names_the_number_and_direction() -> None:
    assert call_subject(FACTS, "en") == "Call from +86 138 0013 8000"


def test_outbound_subject() -> None:
    facts = CallFacts(
        call_id="c-2",
        phone="+8613800138000",
        other_party=None,
        is_inbound=False,
        started_at=FACTS.started_at,
        duration_seconds=0,
        recording_url=None,
        agent_note="",
    )
    assert call_subject(facts, "en") == "Call to +86 138 0013 8000"
    body = call_body(facts, "en", "Asia/Shanghai")
    for absent in ("Recording", "Agent note", "Our number"):
        assert absent not in body
    assert "Duration: 0 s" in body


def test_body_lists_the_facts_in_local_time() -> None:
    assert call_body(FACTS, "en", "Asia/Shanghai").splitlines() == [
        "Direction: inbound",
        "Customer number: +86 138 0013 8000",
        "Our number: 400-820-8820",
        "Started: 2026-11-25 10:03:04 CST",
        "Duration: 3 min 25 s",
        "Call id: c-1001",
        "Recording: https://cc.example.cn/rec/c-1001.mp3",
        "",
        "Agent note:",
        "Wants a refund.",
    ]


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert "Started: 2026-11-25 02:03:04 UTC" in call_body(FACTS, "en", "Mars/Olympus")


def test_format_duration() -> None:
    assert format_duration(59, "en") == "59 s"
    assert format_duration(3600, "en") == "60 min 0 s"
