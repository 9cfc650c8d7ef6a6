"""Signatures as WeChat computes them (checked against wechatpy's own implementation)."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]
from wechatpy.exceptions import InvalidSignatureException  # type: ignore[import-untyped]
from wechatpy.utils import check_signature  # type: ignore[import-untyped]

from closeloop.channels.wechat.signature import (
    compute_signature,
    verify_msg_signature,
    verify_signature,
)

TOKEN = "closeloopToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_signature_matches_wechatpy() -> None:
    signature = compute_signature(TOKEN, "1795572000", "1320562132")
    check_signature(TOKEN, signature, "1795572000", "1320562132")  # raises when wrong


def test_signature_sorts_its_parts_as_strings() -> None:
    # WeChat sorts lexicographically: "1795572000" < "9" < "closeloopToken2026".
    assert compute_signature(TOKEN, "1795572000", "9") == compute_signature(
        "9", TOKEN, "1795572000"
    )


def test_verify_signature_accepts_the_right_one_in_any_case() -> None:
    signature = compute_signature(TOKEN, "1795572000", "nonce")
    assert verify_signature(TOKEN, signature=signature, timestamp="1795572000", nonce="nonce")
    assert verify_signature(
        TOKEN, signature=signature.upper(), timestamp="1795572000", nonce="nonce"
    )


@pytest.mark.parametrize(
    ("token", "signature", "timestamp", "nonce"),
    [
        pytest.param("other", "SIG", "1795572000", "nonce", id="other_token_case"),
        pytest.param(TOKEN, "SIG", "1795572001", "nonce", id="other_timestamp_case"),
        pytest.param(TOKEN, "SIG", "1795572000", "nonce2", id="other_nonce_case"),
        pytest.param(TOKEN, "", "1795572000", "nonce", id="missing_signature_case"),
        pytest.param(TOKEN, "SIG", "", "nonce", id="missing_timestamp_case"),
        pytest.param("", "SIG", "1795572000", "nonce", id="empty_token_case"),
    ],
)
def test_verify_signature_refuses(token: str, signature: str, timestamp: str, nonce: str) -> None:
    good = compute_signature(TOKEN, "1795572000", "nonce")
    sent = good if signature == "SIG" else signature
    assert not verify_signature(token, signature=sent, timestamp=timestamp, nonce=nonce)


def test_msg_signature_of_a_wechatpy_envelope() -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, "wx5823bf96d3bd56c7")
    envelope = crypto.encrypt_message("<xml><Content>hi</Content></xml>", "n0nce", "1795572000")
    import xmltodict  # type: ignore[import-untyped]

    fields = xmltodict.parse(envelope)["xml"]
    assert verify_msg_signature(
        TOKEN,
        msg_signature=fields["MsgSignature"],
        timestamp="1795572000",
        nonce="n0nce",
        encrypted=fields["Encrypt"],
    )
    assert not verify_msg_signature(
        TOKEN,
        msg_signature=fields["MsgSignature"],
        timestamp="1795572000",
        nonce="n0nce",
        encrypted=fields["Encrypt"][:-4] + "AAA=",
    )
    assert not verify_msg_signature(
        TOKEN, msg_signature="", timestamp="1795572000", nonce="n0nce", encrypted="x"
    )
    with pytest.raises(InvalidSignatureException):
        crypto.decrypt_message(envelope, "0" * 40, "1795572000", "n0nce")
