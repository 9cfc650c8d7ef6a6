"""Turning the bytes, encoded words and parameters of real-world email into text (pure).

Real mail lies about its charset: GBK text labelled ``gb2312``, Big5-HKSCS labelled ``big5``,
Windows-1252 labelled ``iso-8859-1``, 8-bit headers with no label at all. Everything here
returns text and never raises: the declared charset is tried first (and kept with a few
replacement characters when it explains nearly everything), then ``utf-8``, ``gb18030`` and
Big5-HKSCS, and Windows-1252 with replacement characters last
(docs/subsystems/channels-email.md).

Header values are taken as the email package stores them (the raw text, with undecodable bytes
kept as surrogate escapes) and decoded here rather than by ``policy.default``, because the
standard library decodes every encoded word on its own with the labelled codec: a GBK
character under a ``gb2312`` label, or a multi-byte character split across two encoded words
(common in Chinese subjects), comes out as replacement characters.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.message import Message

# Labels that real mail uses for a wider charset than the label says (WHATWG Encoding does the
# same for the web): each label maps to the codecs tried in order.
_CODECS_BY_LABEL: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "gb2312",
            "gb-2312",
            "gb-2312-80",
            "csgb2312",
            "euc-cn",
            "x-euc-cn",
            "gbk",
            "x-gbk",
            "cp936",
            "ms936",
            "windows-936",
            "chinese",
            "gb18030",
        ),
        ("gb18030",),
    ),
    **dict.fromkeys(
        ("big5", "big-5", "cn-big5", "x-x-big5", "csbig5", "cp950", "x-big5", "big5-hkscs"),
        ("big5", "cp950", "big5hkscs"),
    ),
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "cp819", "windows-1252", "cp1252"),
        ("cp1252", "iso-8859-1"),
    ),
    **dict.fromkeys(("us-ascii", "ascii", "ansi-x3.4-1968", "646", "us"), ("ascii",)),
    **dict.fromkeys(("utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8"), ("utf-8",)),
    **dict.fromkeys(
        ("iso-2022-jp", "csiso2022jp", "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-ext"),
        ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_nec"),
    ),
    **dict.fromkeys(
        ("shift-jis", "shift_jis", "sjis", "x-sjis", "ms-kanji", "cp932", "windows-31j"),
        ("cp932", "shift_jis_2004"),
    ),
    **dict.fromkeys(("euc-jp", "x-euc-jp", "cseucpkdfmtjapanese"), ("euc_jp", "euc_jis_2004")),
    **dict.fromkeys(("euc-kr", "ks-c-5601-1987", "ks_c_5601-1987", "ksc5601", "cp949"), ("cp949",)),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874", "cp874"), ("cp874",)),
}
# Labels that mean "no idea".
_UNKNOWN_LABELS = frozenset({"", "unknown", "unknown-8bit", "x-unknown", "default", "none", "8bit"})
# Codecs that Python knows but that no mail body is written in, and that must not run on
# untrusted bytes as if they were a charset.
_REFUSED_CODECS = frozenset(
    {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "mbcs", "oem"}
)
FALLBACK_CODECS = ("utf-8", "gb18030", "big5hkscs")
# Windows writes NEC extensions (①, ㈱, ㍻) into "iso-2022-jp" (CP50220); JIS X 0213 has them at
# the same code points, so such text decodes as ISO-2022-JP-2004 once its escapes say so.
_JIS_EXTENDED = "iso2022_jp_nec"
# A declared charset whose tolerant decoding has this many good non-ASCII characters per
# damaged one is trusted over the guesses.
_CLEARLY_DECODED = 20
_JIS_X_0208_ESCAPES = (b"\x1b$B", b"\x1b$@")
LAST_RESORT_CODEC = "cp1252"

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAK = re.compile(r"[\r\n]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# In a header's text: C0 and C1 controls, and the Unicode line and paragraph separators (an
# encoded word can carry any of them; a subject must stay one line wherever it is shown or sent).
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# RFC 2047 encoded word, tolerant: spaces inside the encoded text and no separating white space
# around it are both seen in the wild. The charset may carry an RFC 2231 language (utf-8*en).
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def codecs_for(label: str | None) -> tuple[str, ...]:
    """The codecs to try, in order, for a declared charset label (empty when unusable)."""
    if label is None:
        return ()
    name = label.strip().strip("\"'").strip().lower().replace("_", "-")
    name = name.partition("*")[0]  # RFC 2231 language suffix: utf-8*en
    if name in _UNKNOWN_LABELS:
        return ()
    known = _CODECS_BY_LABEL.get(name)
    if known is not None:
        return known
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return ()
    refused = info.name.replace("-", "_") in _REFUSED_CODECS
    if refused or not getattr(info, "_is_text_encoding", True):
        return ()
    return (info.name,)


def _try_decode(data: bytes, codec: str, errors: str = "strict") -> str | None:
    if codec == _JIS_EXTENDED:
        for escape in _JIS_X_0208_ESCAPES:
            data = data.replace(escape, b"\x1b$(Q")
        codec = "iso2022_jp_2004"
    try:
        return data.decode(codec, errors)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None


def _damage(text: str) -> tuple[int, int]:
    """(replacement characters, other non-ASCII characters) of a tolerant decoding."""
    damaged = text.count("\ufffd")
    return damaged, sum(1 for char in text if char > "\x7f") - damaged


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Text from bytes in a declared (or missing, or wrong) charset. Never raises.

    When the declared charset does not decode cleanly, its decoding with replacement
    characters still wins if the damage is rare: over the guesses when the damage is tiny next
    to what it decodes (Cyrillic UTF-8 with one broken byte is also "valid" GB18030 and would
    come out as Chinese), else only over the last resort (a truncated UTF-8 word "你\ufffd"
    beats Windows-1252 mojibake). A wrong declaration damages nearly every non-ASCII character
    and loses to the guesses.
    """
    declared_codecs = codecs_for(declared)
    for codec in declared_codecs:
        text = _try_decode(data, codec)
        if text is not None:
            return text.removeprefix("\ufeff")
    tolerant: list[tuple[str, int, int]] = []
    for codec in declared_codecs:
        text = _try_decode(data, codec, "replace")
        if text is not None:
            damaged, decoded = _damage(text)
            if damaged <= max(1, len(text) // 100) and decoded >= damaged:
                tolerant.append((text.removeprefix("\ufeff"), damaged, decoded))
    for text, damaged, decoded in tolerant:
        if decoded >= _CLEARLY_DECODED * damaged:
            return text
    for codec in FALLBACK_CODECS:
        text = _try_decode(data, codec)
        if text is not None:
            return text.removeprefix("\ufeff")
    if tolerant:
        return tolerant[0][0]
    return data.decode(LAST_RESORT_CODEC, "replace")


def raw_bytes(value: str) -> bytes:
    """The bytes behind a header or payload string of the email package.

    The parser keeps non-ASCII bytes as surrogate escapes; other non-ASCII text (already
    decoded) is encoded as UTF-8.
    """
    return value.encode("utf-8", "surrogateescape")


def unfold(value: str) -> str:
    """RFC 5322 unfolding: a line break followed by white space is removed."""
    return _LINE_BREAK.sub("", _FOLD.sub("", value))


def _decode_b(text: bytes) -> bytes | None:
    cleaned = _NOT_BASE64.sub(b"", text)
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned)
    except (binascii.Error, ValueError):
        return None


def _decode_q(text: bytes) -> bytes:
    return _QP_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), text.replace(b"_", b" "))


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (and raw 8-bit text) of an unfolded header value.

    White space between adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words
    in the same charset are joined before decoding so that a character split across two
    words survives. Malformed words stay as they are.
    """
    pieces: list[tuple[str | None, bytes]] = []  # (charset or None for raw text, bytes)
    position = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        data = raw_bytes(match.group(3))
        decoded = _decode_b(data) if match.group(2) in "bB" else _decode_q(data)
        if decoded is None:
            continue  # left in place: becomes part of the next raw piece
        if between and not (previous_was_word and between.isspace()):
            pieces.append((None, raw_bytes(between)))
        charset = match.group(1).partition("*")[0].lower()
        if pieces and pieces[-1][0] == charset and previous_was_word:
            pieces[-1] = (charset, pieces[-1][1] + decoded)
        else:
            pieces.append((charset, decoded))
        position = match.end()
        previous_was_word = True
    if position < len(value):
        pieces.append((None, raw_bytes(value[position:])))
    return "".join(decode_bytes(data, charset) for charset, data in pieces)


def header_text(value: str) -> str:
    """A header value as one line of readable text: unfolded, decoded, no control characters."""
    return _CONTROL_OR_BREAK.sub(" ", decode_words(unfold(value))).strip()


def clean_text(text: str) -> str:
    """Body text with Unix line ends and no control characters but tab and line feed.

    (PostgreSQL refuses NUL in text columns; the rest only confuse a reader.)
    """
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def parameters(value: str, header: str) -> dict[str, str]:
    """The parameters of a MIME header value (Content-Type, Content-Disposition), decoded.

    Handles quoting, RFC 2231 values with a charset and continuations
    (``filename*0*=gb2312''%B1%A8; filename*1*=%B8%E6.pdf``), RFC 2047 encoded words inside
    quoted values (Outlook and many Chinese mailers), and raw 8-bit values. Parameter names are
    lowercase; the first occurrence of a name wins.
    """
    text = decode_bytes(raw_bytes(unfold(value)))
    # The compat32 parameter parser works on plain text (no surrogates) and does RFC 2231.
    holder = Message()
    holder[header] = text
    found: dict[str, str] = {}
    for name, raw in holder.get_params(header=header, failobj=[])[1:]:
        key = name.strip().lower()
        if key in found or not key:
            continue
        found[key] = _parameter_value(raw)
    return found


def _parameter_value(raw: str | tuple[str | None, str | None, str]) -> str:
    if isinstance(raw, tuple):
        charset, _language, encoded = raw
        try:
            data = encoded.encode("latin-1")
        except UnicodeEncodeError:
            data = encoded.encode("utf-8", "surrogateescape")
        return _CONTROL_OR_BREAK.sub(" ", decode_bytes(data, charset)).strip()
    return header_text(raw)


def first_token(value: str) -> str:
    """The value before the first ``;`` (the type of Content-Type or Content-Disposition)."""
    return unfold(value).partition(";")[0].strip().lower()
