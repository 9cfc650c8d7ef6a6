"""Signatures of inbound webhook requests: the format, the window, rotation, tampering."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.channels.webhook.signing import (
    SignatureProblem,
    check_signature,
    compute_signature,
    parse_signature_header,
    signature_header,
)

SECRET = "whsec_test"
NOW = 1_795_000_000
BODY = b'{"external_id":"m-1","customer":{"email":"li.lei@example.cn"},"body":"Hi"}'


def test_signature_is_hex_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert compute_signature(SECRET, NOW, BODY) == expected
    assert signature_header(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_a_fresh_signature_is_accepted() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert check_signature(header, BODY, [SECRET], now=NOW, window_seconds=300) is None


@pytest.mark.parametrize(
    ("signed_at", "expected"),
    [
        pytest.param(NOW - 300, None, id="oldest_accepted_case"),
        pytest.param(NOW + 300, None, id="clock_skew_accepted_case"),
        pytest.param(NOW - 301, SignatureProblem.expired, id="too_old_case"),
        pytest.param(NOW + 301, SignatureProblem.expired, id="too_far_ahead_case"),
    ],
)
def test_the_replay_window_bounds_the_timestamp(
    signed_at: int, expected: SignatureProblem | None
) -> None:
    header = signature_header(SECRET, signed_at, BODY)
    assert check_signature(header, BODY, [SECRET], now=NOW, window_seconds=300) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, SignatureProblem.missing, id="missing_case"),
        pytest.param("", SignatureProblem.missing, id="empty_case"),
        pytest.param("sha256=abc", SignatureProblem.malformed, id="other_scheme_case"),
        pytest.param(f"t={NOW}", SignatureProblem.malformed, id="no_signature_case"),
        pytest.param("v1=" + "0" * 64, SignatureProblem.malformed, id="no_timestamp_case"),
        pytest.param(f"t=x,v1={'0' * 64}", SignatureProblem.malformed, id="bad_timestamp_case"),
        pytest.param(f"t={NOW},v1=xyz", SignatureProblem.malformed, id="short_signature_case"),
        pytest.param(f"t={NOW},v1={'0' * 64}", SignatureProblem.mismatch, id="wrong_case"),
        pytest.param(f"t={NOW},t={NOW},v1={'0' * 64}", SignatureProblem.malformed, id="two_t"),
        pytest.param("t=1," + "v1=" + "0" * 3000, SignatureProblem.malformed, id="too_long"),
    ],
)
def test_bad_headers_are_refused_with_their_reason(
    header: str | None, expected: SignatureProblem
) -> None:
    assert check_signature(header, BODY, [SECRET], now=NOW, window_seconds=300) is expected


def test_unknown_keys_are_ignored_and_any_v1_may_match() -> None:
    good = compute_signature(SECRET, NOW, BODY)
    header = f"t={NOW}, v0=legacy, v1={'0' * 64}, v1={good.upper()}"
    assert parse_signature_header(header) is not None
    assert check_signature(header, BODY, [SECRET], now=NOW, window_seconds=300) is None


def test_during_rotation_both_secrets_are_accepted() -> None:
    old, new = "whsec_old", "whsec_new"
    for secret in (old, new):
        header = signature_header(secret, NOW, BODY)
        assert check_signature(header, BODY, [new, old], now=NOW, window_seconds=300) is None
    header = signature_header(old, NOW, BODY)
    assert check_signature(header, BODY, [new], now=NOW, window_seconds=300) is (
        SignatureProblem.mismatch
    )


@given(body=st.binary(max_size=2048), timestamp=st.integers(min_value=0, max_value=2**40))
def test_any_body_and_timestamp_round_trip(body: bytes, timestamp: int) -> None:
    header = signature_header(SECRET, timestamp, body)
    assert check_signature(header, body, [SECRET], now=timestamp, window_seconds=30) is None


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_single_bit_flipped_in_the_body_fails(body: bytes, data: st.DataObject) -> None:
    bit = data.draw(st.integers(min_value=0, max_value=len(body) * 8 - 1))
    tampered = bytearray(body)
    tampered[bit // 8] ^= 1 << (bit % 8)
    header = signature_header(SECRET, NOW, body)
    problem = check_signature(header, bytes(tampered), [SECRET], now=NOW, window_seconds=300)
    assert problem is SignatureProblem.mismatch


@given(data=st.data())
def test_any_single_bit_flipped_in_the_signature_fails(data: st.DataObject) -> None:
    signature = compute_signature(SECRET, NOW, BODY)
    raw = bytearray(bytes.fromhex(signature))
    bit = data.draw(st.integers(min_value=0, max_value=len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    header = f"t={NOW},v1={raw.hex()}"
    problem = check_signature(header, BODY, [SECRET], now=NOW, window_seconds=300)
    assert problem is SignatureProblem.mismatch


@given(shift=st.integers(min_value=1, max_value=10_000))
def test_a_changed_timestamp_fails_even_inside_the_window(shift: int) -> None:
    signature = compute_signature(SECRET, NOW, BODY)
    header = f"t={NOW + shift},v1={signature}"
    problem = check_signature(header, BODY, [SECRET], now=NOW + shift, window_seconds=300)
    assert problem is SignatureProblem.mismatch
