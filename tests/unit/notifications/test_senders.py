"""The documented message formats of each bot, and the encryption of stored secrets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closeloop.kit.secret_box import SecretBox, SecretUnreadable
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.senders import dingtalk, feishu, webhook, wecom
from closeloop.notifications.senders.base import ChatMessage
from closeloop.notifications.senders.email import build_email, message_id

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
MESSAGE = ChatMessage(
    event="sla.breached",
    title="SLA 超时",
    body="工单 TK-000001",
    delivery_key="sla.breached:x|channel:1",
    link="/agent/tickets/1",
    ticket_id=1,
    params={"number": "TK-000001"},
)


def test_wecom_markdown() -> None:
    assert wecom.payload(MESSAGE) == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**SLA 超时**\n\n工单 TK-000001\n\n[/agent/tickets/1](/agent/tickets/1)"
        },
    }


def test_wecom_content_is_cut_to_4096_bytes_on_a_character_boundary() -> None:
    long = ChatMessage(event="e", title="t", body="超" * 3000, delivery_key="k")
    content = wecom.payload(long)["markdown"]
    assert isinstance(content, dict)
    encoded = str(content["content"]).encode()
    assert len(encoded) <= wecom.MAX_CONTENT_BYTES
    assert encoded.decode().endswith("…")


def test_dingtalk_markdown_and_signed_url() -> None:
    assert dingtalk.payload(MESSAGE)["markdown"] == {
        "title": "SLA 超时",
        "text": "**SLA 超时**\n\n工单 TK-000001\n\n[/agent/tickets/1](/agent/tickets/1)",
    }
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
    assert dingtalk.signed_url(url, None, AT) == url
    signed = dingtalk.signed_url(url, "SECx", AT)
    assert signed.startswith(url + "&timestamp=1795572000000&sign=")
    assert dingtalk.signed_url("http://h/robot", "SECx", AT).startswith("http://h/robot?timestamp=")


def test_feishu_interactive_card_signed_in_the_body() -> None:
    document = feishu.signed_payload(MESSAGE, "abc", AT)
    assert document["timestamp"] == "1795572000"
    assert isinstance(document["sign"], str)
    assert document["msg_type"] == "interactive"
    assert document["card"]["header"]["title"] == {"tag": "plain_text", "content": "SLA 超时"}
    assert "timestamp" not in feishu.signed_payload(MESSAGE, None, AT)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"code": 0, "msg": "success", "data": {}}, id="current_case"),
        pytest.param({"StatusCode": 0, "StatusMessage": "success"}, id="legacy_case"),
    ],
)
def test_feishu_success_answers(answer: dict[str, object]) -> None:
    feishu.check_answer(answer)


def test_webhook_headers_sign_the_exact_body() -> None:
    body = b'{"a":1}'
    headers = webhook.headers(MESSAGE, body, "whsec", AT)
    assert headers["X-Closeloop-Timestamp"] == "1795572000"
    assert headers["X-Closeloop-Delivery"] == MESSAGE.delivery_key
    assert headers["X-Closeloop-Signature"].startswith("sha256=")
    assert "X-Closeloop-Signature" not in webhook.headers(MESSAGE, body, None, AT)


def test_email_headers_and_stable_message_id() -> None:
    email = build_email(
        mail_from="Help desk <support@example.cn>",
        to_address="wang@example.cn",
        to_name="王芳",
        subject="工单 TK-000001 有新消息",
        text="正文",
        delivery_key="k",
        at=AT,
        locale="zh_CN",
    )
    assert email["Message-ID"] == message_id("k", "support@example.cn")
    assert email["Message-ID"].endswith("@example.cn>")
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["Content-Language"] == "zh-CN"
    assert email["To"] == "王芳 <wang@example.cn>"
    assert email.get_content() == "正文\n"


def test_secrets_round_trip_and_need_the_same_server_key() -> None:
    cipher = cipher_for("server-key-1")
    token = cipher.encrypt("SEC-very-secret")
    assert "SEC-very-secret" not in token
    assert cipher.decrypt(token) == "SEC-very-secret"
    with pytest.raises(SecretUnreadable):
        cipher_for("server-key-2").decrypt(token)
    with pytest.raises(SecretUnreadable):
        SecretBox("server-key-1", purpose=b"another purpose").decrypt(token)
    with pytest.raises(ValueError, match="empty"):
        cipher_for("")
