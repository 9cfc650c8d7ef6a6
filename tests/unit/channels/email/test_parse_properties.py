"""parse_message on hostile input: only UnparseableMessage escapes, and what it returns is
storable (valid Unicode without NUL, JSON-able metadata)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.channels.base import InboundMessage
from closeloop.channels.email.parse import UnparseableMessage, parse_message

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "email"
VALID = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
RECEIVED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _storable(text: str) -> None:
    text.encode("utf-8")  # raises on lone surrogates
    assert "\x00" not in text


def parse_or_refuse(raw: bytes) -> InboundMessage | None:
    try:
        message = parse_message(raw, received_at=RECEIVED_AT)
    except UnparseableMessage as refusal:
        reason = refusal.reason
    else:
        check_storable(message)
        return message
    assert reason.strip()
    return None


def check_storable(message: InboundMessage) -> None:
    for text in (
        message.external_id,
        message.sender.value,
        message.sender.name or "",
        message.subject,
        message.body_text,
        message.body_html or "",
        message.in_reply_to or "",
        *message.references,
        *message.recipients,
        *message.headers.values(),
    ):
        _storable(text)
    for attachment in message.attachments:
        _storable(attachment.filename)
        _storable(attachment.content_type)
        assert attachment.filename
    _storable(json.dumps(dict(message.metadata), ensure_ascii=False))
    assert message.external_id
    assert "@" in message.sender.value


@settings(deadline=None)  # speed is measured elsewhere; shared machines vary
@given(raw=st.binary(max_size=3000))
def test_arbitrary_bytes(raw: bytes) -> None:
    parse_or_refuse(raw)


@settings(deadline=None)  # speed is measured elsewhere; shared machines vary
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_after_a_valid_from(raw: bytes) -> None:
    parse_or_refuse(b"From: a@example.com\r\n" + raw)


@settings(deadline=None)  # speed is measured elsewhere; shared machines vary
@given(valid=st.sampled_from(VALID), data=st.data())
def test_truncated_messages(valid: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(valid)))
    parse_or_refuse(valid[:cut])


@settings(max_examples=200, deadline=None)
@given(valid=st.sampled_from(VALID), data=st.data())
def test_damaged_messages(valid: bytes, data: st.DataObject) -> None:
    raw = bytearray(valid)
    header_end = raw.find(b"\r\n\r\n")
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        # Mostly in the headers (and MIME part headers), sometimes anywhere.
        limit = header_end if data.draw(st.booleans()) and header_end > 0 else len(raw)
        start = data.draw(st.integers(min_value=0, max_value=max(0, limit)))
        length = data.draw(st.integers(min_value=0, max_value=12))
        replacement = data.draw(
            st.one_of(
                st.binary(max_size=12),
                st.sampled_from(
                    [
                        b"=?",
                        b"?=",
                        b"?B?",
                        b"?Q?",
                        b"\r\n",
                        b"\r\n ",
                        b";",
                        b'"',
                        b"*0*=",
                        b"%",
                        b"<",
                        b">",
                        b"@",
                        b"boundary=",
                        b"charset=",
                        b"--",
                        b"\xff\xfe",
                        b"\x00",
                    ]
                ),
            )
        )
        raw[start : start + length] = replacement
    parse_or_refuse(bytes(raw))


_HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Date",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Content-ID",
        "MIME-Version",
        "Reply-To",
        "Delivered-To",
        "Auto-Submitted",
        "X-Loop",
        "List-Id",
    ]
)
_HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "a@example.com",
            '"x, y" <b@example.com>',
            "<>",
            "=?gb2312?B?1cXPyMn6?= <c@ex.cn>",
            "=?utf-8?B?bad",
            "=?x-unknown?Q?=E4=BD=A0?=",
            "multipart/mixed; boundary=B",
            'multipart/alternative; boundary="B"',
            "message/rfc822",
            "text/html; charset=gb2312",
            "multipart/report; report-type=delivery-status; boundary=B",
            "base64",
            "quoted-printable",
            "x-uuencode",
            "attachment; filename*0*=utf-8''%E5%8F",
            "attachment; filename*=x''%ZZ",
            'inline; filename="=?utf-8?B?5Y+R?="',
            "<id@x>",
            "<a@x> <b@x>",
            "Mon, 30 Feb 2026 25:61:00 +9999",
            'text/plain; charset="',
        ]
    ),
    st.text(max_size=40),
)
_BODIES = st.one_of(
    st.sampled_from(
        [
            "--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n",
            "--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n--B--\r\n",
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\n--B--\r\n",
            "--B\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n--B--\r\n",
            "begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n",
            "5L2g5aW9\r\n",
        ]
    ),
    st.text(max_size=200),
)


@settings(deadline=None)  # speed is measured elsewhere; shared machines vary
@given(
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=10),
    body=_BODIES,
)
def test_generated_messages(headers: list[tuple[str, str]], body: str) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    parse_or_refuse((head + "\r\n" + body).encode("utf-8", "surrogatepass"))


def test_deeply_nested_multiparts() -> None:
    depth = 300
    head = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    parts = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (level, level + 1)
        for level in range(depth)
    )
    parse_or_refuse(head + parts + b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % depth)


def test_hostile_nesting_is_refused() -> None:
    head = b"From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\n"
    with pytest.raises(UnparseableMessage) as caught:
        parse_message(
            head + b"Content-Type: message/rfc822\r\n\r\n" * 2000, received_at=RECEIVED_AT
        )
    assert caught.value.reason == "MIME parts nested too deeply (RecursionError)"
