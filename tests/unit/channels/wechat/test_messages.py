"""Reading WeChat's pushes into our dataclasses (the fixtures are WeChat's documented shapes)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import xmltodict  # type: ignore[import-untyped]
from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]

from closeloop.channels.wechat.domain import FollowerEvent
from closeloop.channels.wechat.messages import (
    MAX_PUSH_BYTES,
    EventPush,
    ImageMessage,
    LinkMessage,
    LocationMessage,
    MalformedPush,
    TextMessage,
    UnsupportedPush,
    VideoMessage,
    VoiceMessage,
    decrypt_push,
    encrypted_part,
    is_valid_aes_key,
    parse_push,
    success_reply,
)

FIXTURES = Path(__file__).parents[4] / "tests" / "fixtures" / "wechat"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx5823bf96d3bd56c7"


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.xml").read_text()


def test_text() -> None:
    push = parse_push(fixture("text"))
    assert push == TextMessage(
        account_original_id="gh_3f1c2a9b7d10",
        openid=OPENID,
        create_time=1795572000,
        msg_id="24602289317290496",
        content="你好，我的订单还没有发货",
    )


def test_image() -> None:
    push = parse_push(fixture("image").encode())
    assert isinstance(push, ImageMessage)
    assert push.media_id == "Q3auHgzwzM5QkiCcxsMJNOvbE_zv5zqyWC0EwM7tLAX1tUqlnwp4pYN5JBAuYbz3"
    assert push.pic_url.startswith("http://mmbiz.qpic.cn/")


def test_voice_with_recognition() -> None:
    push = parse_push(fixture("voice"))
    assert isinstance(push, VoiceMessage)
    assert (push.media_id, push.format, push.recognition) == (
        "J8yVb7nHhFpUK2x0_voice_media_id_5mEtaBMx",
        "amr",
        "打印机又卡纸了",
    )


def test_video_and_short_video() -> None:
    video = parse_push(fixture("video"))
    assert isinstance(video, VideoMessage)
    assert not video.short
    assert video.thumb_media_id == "thumb_media_id_AsDfGh456"
    short = parse_push(fixture("video").replace("[video]", "[shortvideo]"))
    assert isinstance(short, VideoMessage)
    assert short.short


def test_location() -> None:
    push = parse_push(fixture("location"))
    assert isinstance(push, LocationMessage)
    assert (push.latitude, push.longitude, push.scale, push.label) == (
        "31.230416",
        "121.473701",
        "15",
        "上海市黄浦区人民大道200号",
    )


def test_link() -> None:
    push = parse_push(fixture("link"))
    assert isinstance(push, LinkMessage)
    assert push.url == "https://shop.example.cn/orders/20261125-0042"
    assert push.title == "订单详情"


@pytest.mark.parametrize(
    ("name", "event", "key"),
    [
        pytest.param("subscribe", FollowerEvent.subscribe, "", id="subscribe_case"),
        pytest.param(
            "subscribe_scan", FollowerEvent.subscribe, "store_0042", id="subscribe_scan_case"
        ),
        pytest.param("unsubscribe", FollowerEvent.unsubscribe, "", id="unsubscribe_case"),
        pytest.param("click", FollowerEvent.click, "MENU_CONTACT_SUPPORT", id="click_case"),
        pytest.param("view", FollowerEvent.view, "https://shop.example.cn/help", id="view_case"),
        pytest.param("scan", FollowerEvent.scan, "store_0042", id="scan_case"),
    ],
)
def test_events(name: str, event: FollowerEvent, key: str) -> None:
    push = parse_push(fixture(name))
    assert push == EventPush(
        account_original_id="gh_3f1c2a9b7d10",
        openid=OPENID,
        create_time=1795572000,
        event=event,
        key=key,
    )


def test_events_we_do_not_act_on_are_unsupported() -> None:
    push = parse_push(fixture("location_event"))
    assert isinstance(push, UnsupportedPush)
    assert (push.msg_type, push.event) == ("event", "LOCATION")


def test_unknown_message_type_is_unsupported() -> None:
    push = parse_push(fixture("text").replace("[text]", "[miniprogrampage]"))
    assert isinstance(push, UnsupportedPush)
    assert push.msg_type == "miniprogrampage"


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param("<xml><ToUserName>", id="truncated_case"),
        pytest.param("not xml at all", id="text_case"),
        pytest.param("", id="empty_case"),
        pytest.param("<xml>just text</xml>", id="no_fields_case"),
        pytest.param("<other><MsgType>text</MsgType></other>", id="wrong_root_case"),
        pytest.param(
            fixture("text").replace("<MsgId>24602289317290496</MsgId>", ""), id="no_msgid_case"
        ),
        pytest.param(fixture("text").replace("1795572000", "yesterday"), id="bad_time_case"),
        pytest.param(fixture("text").replace("1795572000", "9" * 30), id="huge_time_case"),
        pytest.param(
            fixture("text").replace(
                "<FromUserName><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></FromUserName>", ""
            ),
            id="no_sender_case",
        ),
        pytest.param(
            fixture("image").replace("<MediaId>", "<MediaId><Nested>x</Nested>"), id="nested_case"
        ),
        pytest.param("<xml>" + "<A>x</A>" * (MAX_PUSH_BYTES // 8) + "</xml>", id="huge_case"),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            "<xml><ToUserName>a</ToUserName><FromUserName>&e;</FromUserName>"
            "<CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
            id="external_entity_case",
        ),
    ],
)
def test_malformed(xml: str) -> None:
    with pytest.raises(MalformedPush):
        parse_push(xml)


def test_safe_mode_envelope_round_trip_with_wechatpy() -> None:
    crypto = WeChatCrypto("token", AES_KEY, APP_ID)
    envelope = crypto.encrypt_message(fixture("text"), "nonce", "1795572000")
    encrypted = encrypted_part(envelope)
    assert encrypted == xmltodict.parse(envelope)["xml"]["Encrypt"]
    opened = decrypt_push(encrypted, encoding_aes_key=AES_KEY, app_id=APP_ID)
    assert parse_push(opened) == parse_push(fixture("text"))


def test_envelope_sealed_for_another_app_is_refused() -> None:
    crypto = WeChatCrypto("token", AES_KEY, "wxanotherapp0000")
    encrypted = encrypted_part(crypto.encrypt_message(fixture("text"), "nonce", "1795572000"))
    with pytest.raises(MalformedPush):
        decrypt_push(encrypted, encoding_aes_key=AES_KEY, app_id=APP_ID)


def test_garbage_envelope_is_refused() -> None:
    with pytest.raises(MalformedPush):
        decrypt_push("bm90IGFuIGVudmVsb3Bl", encoding_aes_key=AES_KEY, app_id=APP_ID)
    with pytest.raises(MalformedPush):
        decrypt_push("AAAA", encoding_aes_key="short", app_id=APP_ID)


def test_encrypted_part() -> None:
    assert encrypted_part(fixture("text")) == ""
    assert encrypted_part("<xml><Encrypt> abc </Encrypt></xml>") == "abc"
    assert encrypted_part("<a>b</a>") == ""
    with pytest.raises(MalformedPush):
        encrypted_part("<xml>")
    with pytest.raises(MalformedPush):
        encrypted_part("x" * (MAX_PUSH_BYTES + 1))


def test_aes_key_validation() -> None:
    assert is_valid_aes_key(AES_KEY)
    assert is_valid_aes_key(base64.b64encode(bytes(range(32))).decode().rstrip("="))
    assert not is_valid_aes_key(AES_KEY[:-1])
    assert not is_valid_aes_key("!" * 43)


def test_passive_reply_is_success() -> None:
    assert success_reply() == "success"
