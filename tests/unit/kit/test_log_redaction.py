"""No personal data or secrets reach the logs."""

from __future__ import annotations

import pytest

from closeloop.kit.logging import REDACTED, redact_event, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("call 13800138000 now", f"call {REDACTED} now", id="mobile_case"),
        pytest.param("0755 2345 6789", REDACTED, id="landline_case"),
        pytest.param("mail li.lei@example.cn", f"mail {REDACTED}", id="email_case"),
        pytest.param("2026-11-25T12:11:44Z", "2026-11-25T12:11:44Z", id="timestamp_case"),
        pytest.param("ticket 12345", "ticket 12345", id="short_number_case"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_sensitive_keys_are_dropped_whatever_their_value() -> None:
    event = redact_event(
        None,
        "info",
        {"event": "login", "password": "hunter2", "Authorization": "Bearer x", "ticket_id": 7},
    )
    assert event == {
        "event": "login",
        "password": REDACTED,
        "Authorization": REDACTED,
        "ticket_id": 7,
    }
