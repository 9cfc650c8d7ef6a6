"""Signatures of the chat bots and the generic webhook, against vectors computed with openssl.

    printf '1700000000003\nSEC1234567890abcdef' \
      | openssl dgst -sha256 -hmac 'SEC1234567890abcdef' -binary | base64
    printf '' | openssl dgst -sha256 -mac HMAC \
      -macopt "hexkey:$(printf '1599360473\nabc123' | xxd -p | tr -d '\n')" -binary | base64
    printf '1700000000.{"event":"sla.warning"}' | openssl dgst -sha256 -hmac 'whsec_test'
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from closeloop.notifications import signing

DINGTALK_SECRET = "SEC1234567890abcdef"
# base64 "MV0BnF/7ov6LSivAAnKAJ3K7nEJkqr936Wb+2hAI1es=": '/', '+' and '=' must be URL-encoded.
DINGTALK_SIGN_AT_1700000000003 = "MV0BnF%2F7ov6LSivAAnKAJ3K7nEJkqr936Wb%2B2hAI1es%3D"
DINGTALK_SIGN_AT_1700000000000 = "RqBq3E1RTBDv3n2QBCh4adZ2WHk9mVklyUoDBLxarjI%3D"
FEISHU_SIGN = "HlCPO79Q9DEV0vueksRdi4YcZ8Z6keFaxRnxlpGYwWo="
WEBHOOK_SIGNATURE = "sha256=a5dbca8784632f8ec2e2dea3e1bf375454bd1b9e924b258608b7f73a5bf62bac"


@pytest.mark.parametrize(
    ("timestamp_ms", "expected"),
    [
        pytest.param(1700000000000, DINGTALK_SIGN_AT_1700000000000, id="plain_case"),
        pytest.param(1700000000003, DINGTALK_SIGN_AT_1700000000003, id="url_escapes_case"),
    ],
)
def test_dingtalk_sign_matches_openssl(timestamp_ms: int, expected: str) -> None:
    assert signing.dingtalk_sign(DINGTALK_SECRET, timestamp_ms) == expected


def test_dingtalk_signature_uses_milliseconds() -> None:
    at = datetime(2023, 11, 14, 22, 13, 20, 3000, tzinfo=UTC)  # 1700000000.003 s
    signature = signing.dingtalk_signature(DINGTALK_SECRET, at)
    assert signature.timestamp == "1700000000003"
    assert signature.sign == DINGTALK_SIGN_AT_1700000000003


def test_feishu_sign_keys_the_hmac_with_the_string_to_sign() -> None:
    assert signing.feishu_sign("abc123", 1599360473) == FEISHU_SIGN


def test_feishu_signature_uses_seconds_in_any_time_zone() -> None:
    at = datetime(2020, 9, 6, 10, 47, 53, 999_000, tzinfo=timezone(timedelta(hours=8)))
    signature = signing.feishu_signature("abc123", at)
    assert signature.timestamp == "1599360473"
    assert signature.sign == FEISHU_SIGN


def test_webhook_signature_covers_timestamp_and_body() -> None:
    body = b'{"event":"sla.warning"}'
    assert signing.webhook_signature("whsec_test", 1700000000, body) == WEBHOOK_SIGNATURE
    assert signing.webhook_signature("whsec_test", 1700000001, body) != WEBHOOK_SIGNATURE
    assert signing.webhook_signature("other", 1700000000, body) != WEBHOOK_SIGNATURE


@pytest.mark.parametrize(
    ("header", "now_s", "accepted"),
    [
        pytest.param(WEBHOOK_SIGNATURE, 1700000000, True, id="fresh_case"),
        pytest.param(WEBHOOK_SIGNATURE, 1700000300, True, id="at_tolerance_case"),
        pytest.param(WEBHOOK_SIGNATURE, 1700000301, False, id="stale_case"),
        pytest.param(WEBHOOK_SIGNATURE, 1699999699, False, id="from_the_future_case"),
        pytest.param("sha256=" + "0" * 64, 1700000000, False, id="forged_case"),
    ],
)
def test_receivers_verify_signature_and_age(header: str, now_s: int, accepted: bool) -> None:
    body = b'{"event":"sla.warning"}'
    assert (
        signing.verify_webhook_signature("whsec_test", 1700000000, body, header, now_s=now_s)
        is accepted
    )


def test_naive_instants_are_refused() -> None:
    naive = datetime(2026, 11, 25, 10, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ValueError, match="naive"):
        signing.dingtalk_signature("s", naive)
    with pytest.raises(ValueError, match="naive"):
        signing.feishu_signature("s", naive)
