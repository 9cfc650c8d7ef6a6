"""Charset fallbacks, RFC 2047 encoded words and RFC 2231 parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.channels.email import decoding


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        pytest.param("朱镕基".encode("gbk"), "gb2312", "朱镕基", id="gbk_under_gb2312_case"),
        pytest.param("朱镕基".encode("gbk"), None, "朱镕基", id="gbk_undeclared_case"),
        pytest.param("啲嘢".encode("big5hkscs"), "big5", "啲嘢", id="hkscs_under_big5_case"),
        pytest.param(b"\x93quoted\x94 caf\xe9", "iso-8859-1", "“quoted” café", id="cp1252_case"),
        pytest.param(b"caf\xe9 au lait", "utf-8", "café au lait", id="wrong_utf8_label_case"),
        pytest.param(b"caf\xe9 au lait", "us-ascii", "café au lait", id="wrong_ascii_label_case"),
        pytest.param("订单".encode("gbk"), "x-no-such-charset", "订单", id="unknown_label_case"),
        pytest.param(b"\xef\xbb\xbfhello", "utf-8", "hello", id="bom_case"),
        pytest.param(b"a\\u0041", "unicode_escape", "a\\u0041", id="refused_codec_case"),
        pytest.param(
            "你好，这是一封很长的中文邮件，内容很多很多。".encode() + b"\xff",
            "utf-8",
            "你好，这是一封很长的中文邮件，内容很多很多。\ufffd",
            id="one_damaged_byte_keeps_the_declared_charset_case",
        ),
        pytest.param(b"\x81\xff", None, "\ufffd\xff", id="last_resort_case"),
        pytest.param(
            "Профиль и сообщения, контакты".encode() + b"\xd1f" + "ы".encode(),
            "utf-8",
            "Профиль и сообщения, контакты\ufffdfы",
            id="one_damaged_byte_in_cyrillic_is_not_read_as_chinese_case",
        ),
        pytest.param(b"\xe4\xbd\xa0\xe5\xa5", "utf-8", "你\ufffd", id="truncated_utf8_case"),
    ],
)
def test_decode_bytes(data: bytes, declared: str | None, expected: str) -> None:
    assert decoding.decode_bytes(data, declared) == expected


@pytest.mark.parametrize(
    ("label", "codecs"),
    [
        pytest.param("GB2312", ("gb18030",), id="gb2312_case"),
        pytest.param('"utf-8"', ("utf-8",), id="quoted_case"),
        pytest.param("utf-8*en", ("utf-8",), id="language_case"),
        pytest.param("koi8-r", ("koi8-r",), id="python_alias_case"),
        pytest.param("unknown-8bit", (), id="unknown_case"),
        pytest.param("base64", (), id="not_a_text_encoding_case"),
        pytest.param(None, (), id="none_case"),
    ],
)
def test_codecs_for(label: str | None, codecs: tuple[str, ...]) -> None:
    assert decoding.codecs_for(label) == codecs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("=?utf-8?B?5L2g5aW9?=", "你好", id="base64_case"),
        pytest.param("=?utf-8?b?5L2g5aW9?=", "你好", id="lowercase_b_case"),
        pytest.param("=?utf-8?B?5L2g5aW?=", "你\ufffd", id="missing_padding_case"),
        pytest.param("=?UTF-8?Q?caf=C3=A9_cr=C3=A8me?=", "café crème", id="q_case"),
        pytest.param("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab", id="adjacent_words_case"),
        pytest.param("=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab", id="folded_words_case"),
        pytest.param("Re: =?utf-8?Q?a?= and b", "Re: a and b", id="mixed_case"),
        pytest.param("=?utf-8?B?5L2g?==?utf-8?B?5aW9?=", "你好", id="no_space_between_case"),
        pytest.param("=?utf-8*zh?B?5L2g5aW9?=", "你好", id="language_tag_case"),
        pytest.param("=?utf-8?Q?has space?=", "has space", id="space_inside_case"),
        pytest.param("=?utf-8?X?abc?=", "=?utf-8?X?abc?=", id="unknown_encoding_case"),
        pytest.param("=?utf-8?B?@@@?=", "", id="garbage_base64_case"),
        pytest.param("=?utf-8?B?", "=?utf-8?B?", id="unterminated_case"),
        pytest.param("line\r\n\tfolded", "line\tfolded", id="unfold_case"),
    ],
)
def test_decode_words(value: str, expected: str) -> None:
    assert decoding.decode_words(decoding.unfold(value)) == expected


def test_multibyte_character_split_across_encoded_words_survives() -> None:
    data = "账户问题".encode("gbk")
    value = f"=?gb2312?Q?{''.join(f'={b:02X}' for b in data[:3])}?= =?gb2312?Q?" + "".join(
        f"={b:02X}" for b in data[3:]
    )
    assert decoding.header_text(value + "?=") == "账户问题"


def test_header_text_is_one_clean_line() -> None:
    assert decoding.header_text("=?utf-8?Q?a=0Ab=00c?=\r\n d ") == "a b c d"


def test_header_text_has_no_unicode_line_separators_or_c1_controls() -> None:
    # U+2028, U+2029 and NEL end a line for str.splitlines: a subject holding one could not be
    # written into the acknowledgement's Subject header.
    encoded = "=?utf-8?Q?Hi=E2=80=A8there=E2=80=A9now=C2=85end?="
    assert decoding.header_text(encoded) == "Hi there now end"


def test_raw_8bit_header_bytes_are_recovered() -> None:
    value = "发票".encode("gbk").decode("ascii", "surrogateescape")
    assert decoding.header_text(value) == "发票"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "attachment; filename*0*=utf-8''%E5%8F; filename*1*=%91%E7%A5%A8.pdf",
            {"filename": "发票.pdf"},
            id="continuation_splits_a_character_case",
        ),
        pytest.param(
            "attachment; filename*=gb2312'zh'%E9%46.txt",
            {"filename": "镕.txt"},
            id="gbk_under_gb2312_case",
        ),
        pytest.param(
            "attachment; filename*=gb2312'zh'%E9%95%95.txt",
            {"filename": "镕.txt"},
            id="utf8_labelled_gb2312_case",
        ),
        pytest.param(
            'attachment; filename="=?utf-8?B?5Y+R56WoLnBkZg==?="; size=10',
            {"filename": "发票.pdf", "size": "10"},
            id="encoded_word_in_quotes_case",
        ),
        pytest.param(
            'attachment; FILENAME="a b.txt"; filename="second.txt"',
            {"filename": "a b.txt"},
            id="first_wins_case",
        ),
        pytest.param("attachment;;; =oops; filename", {"filename": ""}, id="junk_case"),
        pytest.param(
            "attachment; filename*=utf-8''\u53d1\u7968.pdf",
            {"filename": "发票.pdf"},
            id="raw_text_in_an_extended_value_case",
        ),
    ],
)
def test_parameters(value: str, expected: dict[str, str]) -> None:
    assert decoding.parameters(value, "Content-Disposition") == expected


@given(data=st.binary(max_size=200), declared=st.sampled_from([None, "gb2312", "utf-8", "big5"]))
def test_decode_bytes_never_raises_and_gives_storable_text(
    data: bytes, declared: str | None
) -> None:
    text = decoding.decode_bytes(data, declared)
    text.encode("utf-8")  # no lone surrogates


@given(value=st.text(max_size=200))
def test_header_text_never_raises_and_gives_storable_text(value: str) -> None:
    text = decoding.header_text(value)
    text.encode("utf-8")
    assert "\x00" not in text
    assert "\n" not in text
