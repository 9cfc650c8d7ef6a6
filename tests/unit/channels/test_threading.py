"""Email threading rules: the Message-IDs an email answers, ticket numbers in subjects, the
same-subject window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.channels.email.threading import (
    SubjectWindow,
    candidate_message_ids,
    message_ids_in,
    normalise_message_id,
    ticket_number_in_subject,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.org>", "abc@example.org"),
        ("  abc@example.org ", "abc@example.org"),
        ("<ABC.1$x@Example.org>", "ABC.1$x@Example.org"),
        ("not an id", None),
        ("", None),
        ("<>", None),
    ],
)
def test_normalise_message_id(value: str, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_candidates_are_in_reply_to_then_references_newest_first() -> None:
    candidates = candidate_message_ids("<c@x>", ["<a@x> <b@x>\r\n <c@x>", "<d@x>"])
    assert candidates == ("c@x", "d@x", "b@x", "a@x")


def test_no_headers_no_candidates() -> None:
    assert candidate_message_ids(None, ()) == ()
    assert message_ids_in("garbage") == []


ids = st.from_regex(r"[a-z0-9.]{1,12}@[a-z]{1,8}\.org", fullmatch=True)


@given(st.lists(ids, max_size=8), st.one_of(st.none(), ids))
def test_candidates_hold_each_id_once_and_lose_none(
    references: list[str], reply_to: str | None
) -> None:
    header = " ".join(f"<{i}>" for i in references)
    candidates = candidate_message_ids(f"<{reply_to}>" if reply_to else None, [header])
    assert len(candidates) == len(set(candidates))
    assert set(candidates) == set(references) | ({reply_to} if reply_to else set())
    if reply_to:
        assert candidates[0] == reply_to


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [TK-000123] VPN", 123),
        ("tk-42 still broken", 42),
        ("About TK-7 and [TK-000009]", 9),
        ("ISO-9001 audit", None),
        ("ATK-123 launch", None),
        ("TK-123abc", None),
        ("Order 123", None),
        ("TK-000000", None),
    ],
)
def test_ticket_number_in_subject(subject: str, expected: int | None) -> None:
    assert ticket_number_in_subject(subject) == expected


@given(st.integers(min_value=1, max_value=10**12), st.text(max_size=20), st.text(max_size=20))
def test_our_own_subject_tag_is_always_found(number: int, before: str, after: str) -> None:
    assert ticket_number_in_subject(f"{before} [TK-{number:06d}] {after}") in (
        number,
        ticket_number_in_subject(f"{before} "),
    )


def test_subject_window_default_is_seven_days() -> None:
    assert SubjectWindow().since(NOW) == NOW - timedelta(days=7)
    assert SubjectWindow(is_enabled=False).since(NOW) is None
