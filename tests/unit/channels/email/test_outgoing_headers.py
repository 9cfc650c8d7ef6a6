"""The header and template rules of outgoing email (no database, no network)."""

from __future__ import annotations

import re

import pytest

from closeloop.channels.email.outbound import (
    REFERENCES_CAP,
    acknowledgement_text,
    capped_references,
    domain_of,
    fill,
    header_safe,
    new_message_id,
    reply_subject,
)

VALUES = {
    "number": "TK-000042",
    "subject": "打印机",
    "link": "https://help.example.cn/t/TK-000042/token",
    "customer_name": "王芳",
    "team": "售后组",
}


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("打印机", "Re: 打印机 [TK-000042]", id="plain_case"),
        pytest.param("Re: 打印机", "Re: 打印机 [TK-000042]", id="already_re_case"),
        pytest.param("打印机 [TK-000042]", "Re: 打印机 [TK-000042]", id="numbered_case"),
    ],
)
def test_the_reply_subject_names_the_ticket_once(subject: str, expected: str) -> None:
    assert reply_subject(subject, "TK-000042") == expected


def test_message_ids_are_ours_unique_and_name_ticket_and_message() -> None:
    first = new_message_id(123, 456, "help.example.cn")
    assert re.fullmatch(r"<tk-123\.m-456\.[0-9a-f]{16}@help\.example\.cn>", first)
    assert first != new_message_id(123, 456, "help.example.cn")
    assert new_message_id(123, None, "x.cn").startswith("<tk-123.ack.")


def test_the_domain_comes_from_the_address_or_a_safe_default() -> None:
    assert domain_of("售后组 <Support@Help.Example.CN>") == "help.example.cn"
    assert domain_of("nonsense") == "closeloop.invalid"


def test_references_are_oldest_first_once_and_capped_to_root_plus_newest() -> None:
    thread = [f"m{n}@x" for n in range(30)]
    refs = capped_references([*thread, "m3@x"], "<m29@x>")
    assert len(refs) == REFERENCES_CAP
    assert refs[0] == "<m0@x>"
    assert refs[-1] == "<m29@x>"
    assert refs[1] == f"<m{30 - REFERENCES_CAP + 1}@x>"
    assert capped_references([], "<only@x>") == ["<only@x>"]
    assert capped_references(["<a@x>"], None) == ["<a@x>"]


def test_placeholders_are_filled_and_unknown_braces_left_alone() -> None:
    assert fill("{number} {unknown} {customer_name} {", VALUES) == "TK-000042 {unknown} 王芳 {"


def test_the_acknowledgement_uses_the_template_or_the_default_per_language() -> None:
    subject, body = acknowledgement_text("zh_CN", VALUES)
    assert "TK-000042" in subject
    assert VALUES["link"] in body
    subject, body = acknowledgement_text(
        "en", VALUES, subject_en="Got it [{number}]", body_zh="只有中文 {number}"
    )
    assert subject == "Got it [TK-000042]"
    assert body.startswith("Hello 王芳")  # the English default: the Chinese body is not used
    _subject, body = acknowledgement_text("zh", VALUES, body_zh="只有中文 {number}")
    assert body == "只有中文 TK-000042"


@pytest.mark.parametrize(
    "text",
    ["a\r\nBcc: x@y", "a\u2028b", "a\x85b", "a\x0bb", "  a\tb  "],
)
def test_header_text_from_outside_becomes_one_line(text: str) -> None:
    safe = header_safe(text)
    assert len(safe.splitlines()) == 1
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in safe)
    assert reply_subject(text, "TK-000001").splitlines() == [reply_subject(text, "TK-000001")]
