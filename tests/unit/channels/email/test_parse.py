"""parse_message on the hand-written messages of tests/fixtures/email/ (exact decoded values)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from closeloop.accounts.domain import IdentityKind
from closeloop.channels.base import InboundAttachment, InboundMessage
from closeloop.channels.email.parse import UnparseableMessage, parse_message, split_quoted
from closeloop.tickets.domain import Channel

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "email"
RECEIVED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def parse_fixture(name: str, *, team_id: int | None = None) -> InboundMessage:
    return parse_message((FIXTURES / name).read_bytes(), received_at=RECEIVED_AT, team_id=team_id)


def test_gbk_under_a_gb2312_label_with_a_character_split_across_encoded_words() -> None:
    message = parse_fixture("gbk_subject_body.eml", team_id=7)

    assert message.channel is Channel.email
    assert message.external_id == "20261124091500.GA1234@mail.example.cn"
    assert message.sender.kind is IdentityKind.email
    assert message.sender.value == "zhangkun@example.cn"
    assert message.sender.name == "张堃"
    assert message.subject == "关于朱镕基和王喆的账户问题"
    assert message.body_text == (
        "您好：\n\n我是张堃，我的账户（用户名 zhangkun）无法登录，提示“密码错误”。\n"
        "请帮忙处理，谢谢！\n\n张堃\n"
    )
    assert message.body_html is None
    assert message.received_at == RECEIVED_AT
    assert message.team_id == 7
    assert message.raw == (FIXTURES / "gbk_subject_body.eml").read_bytes()
    assert message.recipients == ("support@closeloop.example",)
    assert message.metadata == {"content_type": "text/plain", "date": "2026-11-24T09:15:00+08:00"}


def test_big5_with_hkscs_characters() -> None:
    message = parse_fixture("big5.eml")

    assert message.sender.name == "陳大文"
    assert message.subject == "電腦問題"
    assert message.body_text == "你好，\n我部電腦啲嘢全部唔見咗，係咪系統問題？\n陳大文\n"


def test_iso_2022_jp_with_windows_circled_digits() -> None:
    message = parse_fixture("iso2022jp.eml")

    assert message.sender.name == "山田太郎"
    assert message.subject == "ログインできない件"
    assert message.body_text == (
        "お世話になっております。\n①ログインできません。\n②パスワードを再設定しました。\n山田\n"
    )


def test_latin1_label_reads_windows_1252_quotes() -> None:
    message = parse_fixture("latin1.eml")

    assert message.sender.value == "renee.muller@example.fr"
    assert message.sender.name == "Renée Müller"
    assert message.subject == "Facture introuvable – réponse urgente"
    assert message.body_text == (
        "Bonjour,\n\nLa facture n° 42 est “introuvable” sur le site. Merci d'avance.\n\n"
        "Renée Müller\n"
    )
    assert message.recipients == ("support@closeloop.example", "compta@example.fr")


def test_broken_declarations_fall_back_and_a_missing_message_id_is_synthetic() -> None:
    raw = (FIXTURES / "broken_charset.eml").read_bytes()
    message = parse_message(raw, received_at=RECEIVED_AT)

    # Declared utf-8, written in GBK.
    assert message.body_text == "订单号 88123 一直没有发货，请尽快处理。\n"
    # Raw 8-bit UTF-8, a malformed encoded word kept as written, then a valid one joined to it.
    assert message.subject == "发货延迟 broken=ZZ加急"
    # An encoded word in a charset nobody knows.
    assert message.sender.name == "李雷"
    assert message.external_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert parse_message(raw, received_at=RECEIVED_AT).external_id == message.external_id
    assert message.recipients == ("support@closeloop.example", "sales@closeloop.example")
    assert "date" not in message.metadata


def test_rfc2231_and_encoded_word_file_names() -> None:
    message = parse_fixture("rfc2231_filenames.eml")

    assert message.subject == "发票附件"
    assert message.body_text == "请查收附件。\n"
    assert message.attachments == (
        InboundAttachment(
            filename="2026年11月发票（含税）.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.4 invoice",
        ),
        InboundAttachment(
            filename="朱镕基报告.docx",
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            content=b"PK\x03\x04docx",
        ),
        InboundAttachment(
            filename="截图.jpg", content_type="image/jpeg", content=b"\xff\xd8\xff\xe0jpeg"
        ),
        InboundAttachment(
            filename="attachment-4.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.4 nameless",
        ),
        InboundAttachment(
            filename="winmail.dat", content_type="application/ms-tnef", content=b'x\x9f>"tnef'
        ),
    )


def test_alternative_in_related_keeps_both_bodies_and_the_inline_image() -> None:
    message = parse_fixture("alternative_related.eml")

    assert message.sender.name == "赵敏"
    assert message.subject == "打印机无法连接"
    assert message.body_text == "你好，打印机无法连接。\n[logo]\n"
    assert message.body_html == (
        "<p>你好，<b>打印机</b>无法连接。</p>"
        '<p><img src="cid:logo.7f3a@example.cn" alt="logo"></p>'
        '<p><a rel="noopener noreferrer nofollow">link</a> '
        '<a href="https://example.cn/help" rel="noopener noreferrer nofollow">help</a></p>'
    )
    assert message.attachments == (
        InboundAttachment(
            filename="attachment-1.png",
            content_type="image/png",
            content=b"\x89PNG\r\n\x1a\nfake-logo",
            inline=True,
            content_id="logo.7f3a@example.cn",
        ),
    )
    assert message.metadata["content_type"] == "multipart/related"


def test_html_only_message_gets_a_text_version() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<div>Line one</div><div>Line <b>two</b> &amp; more</div><script>x()</script>"
    )
    message = parse_message(raw, received_at=RECEIVED_AT)

    assert message.body_html == "<div>Line one</div><div>Line <b>two</b> &amp; more</div>"
    assert message.body_text == "Line one\nLine two & more"


def test_attached_message_is_an_eml_named_after_its_subject_and_not_our_body() -> None:
    message = parse_fixture("attached_message.eml")

    assert message.body_text == "See the attached message from our accountant."
    assert "INNER BODY" not in message.body_text
    (attached,) = message.attachments
    assert attached.filename == "发票 42_3月.eml"
    assert attached.content_type == "message/rfc822"
    assert attached.inline is False
    inner = parse_message(attached.content, received_at=RECEIVED_AT)
    assert inner.external_id == "inner-0001@example.cn"
    assert inner.subject == "发票 42/3月"
    assert inner.body_text == "INNER BODY SHOULD NOT BE IN THE TICKET"


def test_outlook_reply_in_chinese_keeps_the_history_and_marks_where_it_starts() -> None:
    message = parse_fixture("outlook_reply_zh.eml")

    assert message.subject == "答复: 回复: [TK-000123] 发票问题"
    assert message.in_reply_to == "reply-2@closeloop.example"
    assert message.references == (
        "ticket-123@closeloop.example",
        "reply-1@closeloop.example",
        "reply-2@closeloop.example",
    )
    text = message.body_text
    assert text.endswith("主题: 回复: [TK-000123] 发票问题\n\n您好，发票已重新开具。\n")
    assert text[: message.metadata["signature_start"]] == "好的，已经收到，谢谢！\n\n"
    assert text[message.metadata["quote_start"] :].startswith("______")
    assert split_quoted(text) == ("好的，已经收到，谢谢！\n\n", text[13:])


def test_outlook_reply_in_english_folds_at_the_original_message_line() -> None:
    message = parse_fixture("outlook_reply_en.eml")

    assert message.sender.value == "tom.baker@example.com"
    assert message.sender.name == "Baker, Tom"
    assert message.recipients == ("support@closeloop.example", "it-team@example.com")
    assert message.metadata["quote_start"] == len("Thanks, that fixed it.\n\n")
    assert "signature_start" not in message.metadata
    new, rest = split_quoted(message.body_text)
    assert new == "Thanks, that fixed it.\n\n"
    assert rest.startswith("-----Original Message-----\nFrom: Support")
    assert rest.endswith("wrote:\n> The VPN drops every hour.\n")


def test_delivery_status_notification() -> None:
    message = parse_fixture("dsn_bounce.eml")

    assert message.sender.value == "mailer-daemon@mx.closeloop.example"
    assert message.headers["return-path"] == "<>"
    assert message.metadata["content_type"] == "multipart/report"
    assert message.metadata["report_type"] == "delivery-status"
    assert message.metadata["dsn"] == {
        "final_recipient": "nobody@example.org",
        "action": "failed",
        "status": "5.1.1",
        "diagnostic": "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
        "failed_recipients": ["nobody@example.org"],
    }
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("attachment-1.txt", "message/delivery-status"),
        ("attachment-2.txt", "text/rfc822-headers"),
    ]
    assert message.body_text.endswith("said: 550 5.1.1 User unknown")


def test_auto_reply_headers_for_loop_detection() -> None:
    message = parse_fixture("auto_reply.eml")

    assert message.subject == "自动回复: [TK-000126] 您的请求已收到"
    assert message.in_reply_to == "reply-88@closeloop.example"
    assert message.references == ()
    assert dict(message.headers) == {
        "auto-submitted": "auto-replied",
        "precedence": "auto_reply",
        "x-autoreply": "yes",
        "x-auto-response-suppress": "All",
        "return-path": "<wang.wei@example.cn>",
        "content-type": "text/plain; charset=utf-8",
        "from": "王伟 <wang.wei@example.cn>",
    }
    # To, Cc, Delivered-To, X-Original-To in that order, lowercase, each once.
    assert message.recipients == ("help@closeloop.example", "support@closeloop.example")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"", "no From address", id="empty_case"),
        pytest.param(b"Subject: hi\r\n\r\nbody", "no From address", id="no_from_case"),
        pytest.param(b"From: \r\nSubject: hi\r\n\r\nx", "no From address", id="blank_from_case"),
        pytest.param(
            b"From: MAILER DAEMON <>\r\n\r\nx", "no address in From header", id="null_case"
        ),
        pytest.param(b"From: root\r\n\r\nx", "no address in From header", id="local_only_case"),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00",
            "an Outlook .msg file, not an RFC 5322 message",
            id="outlook_msg_case",
        ),
    ],
)
def test_unparseable_messages_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(UnparseableMessage) as caught:
        parse_message(raw, received_at=RECEIVED_AT)
    assert caught.value.reason == reason


def test_unexpected_errors_become_unparseable_with_their_type() -> None:
    with pytest.raises(UnparseableMessage) as caught:
        parse_message("not bytes", received_at=RECEIVED_AT)  # type: ignore[arg-type]
    assert caught.value.reason.startswith("TypeError while parsing: ")


@pytest.mark.parametrize(
    ("from_header", "address", "name"),
    [
        pytest.param(b"bbb@ddd.com (John X. Doe)", "bbb@ddd.com", "John X. Doe", id="comment_case"),
        pytest.param(
            b"=?iso-8859-1?Q?Last=DFlName=2C_FirstName?= <comma.name@example.com>",
            "comma.name@example.com",
            "LastßlName, FirstName",
            id="encoded_comma_case",
        ),
        pytest.param(
            b"billing@bank.example <Phish@Elsewhere.example>",
            "phish@elsewhere.example",
            "billing@bank.example",
            id="address_as_display_name_case",
        ),
        pytest.param("小王 <xw@example.cn>".encode(), "xw@example.cn", "小王", id="raw_utf8_case"),
        pytest.param(
            "小王 <xw@example.cn>".encode("gbk"), "xw@example.cn", "小王", id="raw_gbk_case"
        ),
        pytest.param(b"<Only@Example.com>", "only@example.com", None, id="no_name_case"),
    ],
)
def test_sender_is_the_from_address(from_header: bytes, address: str, name: str | None) -> None:
    raw = b"From: " + from_header + b"\r\nReply-To: other@example.com\r\n\r\nhi\r\n"
    sender = parse_message(raw, received_at=RECEIVED_AT).sender
    assert (sender.value, sender.name) == (address, name)


def test_message_ids_without_brackets_and_in_order() -> None:
    raw = (
        b"From: a@example.com\r\n"
        b"Message-ID:\r\n <outer@example.com>\r\n"
        b"In-Reply-To: <b@example.com> (sent by a mailer)\r\n"
        b"References: <a@example.com>\r\n <b@example.com> <a@example.com>\r\n\r\nhi"
    )
    message = parse_message(raw, received_at=RECEIVED_AT)

    assert message.external_id == "outer@example.com"
    assert message.in_reply_to == "b@example.com"
    assert message.references == ("a@example.com", "b@example.com")


def test_a_multipart_without_boundary_is_read_as_text() -> None:
    raw = b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nplain words\r\n"
    message = parse_message(raw, received_at=RECEIVED_AT)

    assert message.body_text == "plain words\n"
    assert message.attachments == ()


def test_a_header_the_modern_parser_chokes_on_falls_back_to_its_raw_value() -> None:
    # policy.default raises IndexError on this Content-Type (CPython 3.11) while splitting the
    # message; the part is read with the raw value instead.
    raw = (
        b"From: a@example.com\r\n"
        b"Content-Type: text/html; charset=utf-8; b[Q?=3;67q*0*\r\n\r\n"
        b"<b>caf\xc3\xa9</b>\r\n"
    )
    message = parse_message(raw, received_at=RECEIVED_AT)

    assert message.metadata["content_type"] == "text/html"
    assert message.body_html == "<b>café</b>\n"
    assert message.body_text == "café"


def test_dates_without_a_zone_are_utc() -> None:
    raw = b"From: a@example.com\r\nDate: Tue, 24 Nov 2026 09:15:00 -0000\r\n\r\nhi"
    assert parse_message(raw, received_at=RECEIVED_AT).metadata["date"] == (
        "2026-11-24T09:15:00+00:00"
    )


def test_html_declares_its_charset_in_a_meta_tag() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/html\r\n\r\n"
        b'<html><head><meta charset="gbk"></head><body>' + "发票".encode("gbk") + b"</body></html>"
    )
    assert parse_message(raw, received_at=RECEIVED_AT).body_text == "发票"


@pytest.mark.parametrize(
    ("message_id", "expected"),
    [
        pytest.param(b"<abc@example.com>", "abc@example.com", id="bracketed_case"),
        pytest.param(b"abc@example.com", "abc@example.com", id="bare_case"),
        pytest.param(b"<12345>", None, id="no_at_sign_case"),
        pytest.param(b"<>", None, id="empty_case"),
    ],
)
def test_external_id(message_id: bytes, expected: str | None) -> None:
    raw = b"From: a@example.com\r\nMessage-ID: " + message_id + b"\r\n\r\nhi"
    synthetic = "sha256:" + hashlib.sha256(raw).hexdigest()
    assert parse_message(raw, received_at=RECEIVED_AT).external_id == (expected or synthetic)
