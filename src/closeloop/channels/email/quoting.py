"""Where the new text of an email ends: quoted history and signatures (pure).

Nothing is removed: the parser keeps the whole text and records the offsets, and the view
folds what follows them (``split_quoted``). A fold point is only reported when some
non-blank text comes before it, so a message that is all quote (a forward) is never folded
away entirely.

Recognised, English and Chinese:

- attribution lines, also wrapped over up to three lines: ``On <date>, <name> wrote:``,
  ``在 <date>，<name> 写道：`` (and 寫道, 於/于 …);
- separators: ``-----Original Message-----``, ``-----原始邮件-----``, ``-----邮件原件-----``,
  QQ Mail's ``------------------ 原始邮件 ------------------``;
- Outlook header blocks: a ``From:`` / ``发件人:`` line followed within three lines by
  ``Sent:`` / ``Date:`` / ``发送时间:`` / ``时间:`` / ``日期:`` (optionally bold ``*From:*``, and
  a ``______`` rule just above it);
- a block of ``>`` lines that runs to the end of the text;
- signature delimiters ``-- `` and ``--`` on a line of their own (the last one before the quote).
"""

from __future__ import annotations

import re

_ATTRIBUTION_START = re.compile(r"^\s*(?:On\s|在|於|于)")
_ATTRIBUTION_END = re.compile(r"(?:\bwrote\s*:|写道\s*[:：]|寫道\s*[:：])\s*$")
_ATTRIBUTION_MAX_LINES = 3
_ATTRIBUTION_MAX_LENGTH = 400
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|原始邮件|原始郵件|邮件原件|郵件原件)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?\s*(?:From|发件人|發件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?\s*(?:Sent|Date|发送时间|發送時間|时间|時間|日期|寄件日期)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_HEADER_WINDOW = 3
_RULE = re.compile(r"^\s*_{10,}\s*$")
_QUOTED = re.compile(r"^\s*>")


def _lines(text: str) -> tuple[list[str], list[int]]:
    """Lines without their line end, and the offset where each starts."""
    lines: list[str] = []
    starts: list[int] = []
    position = 0
    for line in text.split("\n"):
        lines.append(line.rstrip("\r"))
        starts.append(position)
        position += len(line) + 1
    return lines, starts


def _is_attribution(lines: list[str], index: int) -> bool:
    if not _ATTRIBUTION_START.match(lines[index]):
        return False
    joined = ""
    for line in lines[index : index + _ATTRIBUTION_MAX_LINES]:
        if not line.strip():
            return False
        joined += line
        if len(joined) > _ATTRIBUTION_MAX_LENGTH:
            return False
        if _ATTRIBUTION_END.search(line):
            return True
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = lines[index + 1 : index + 1 + _HEADER_WINDOW]
    return any(_HEADER_SENT.match(line) for line in following)


def _rule_above(lines: list[str], index: int) -> int:
    """The index of a ``______`` rule just above a header block (blank lines between), or index."""
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    return above if above >= 0 and _RULE.match(lines[above]) else index


def _trailing_quote(lines: list[str]) -> int | None:
    """The first line of the block of ``>`` lines (blank lines allowed) that ends the text."""
    first: int | None = None
    index = len(lines) - 1
    while index >= 0:
        line = lines[index]
        if _QUOTED.match(line):
            first = index
        elif line.strip():
            break
        index -= 1
    return first


def _has_text_before(text: str, offset: int) -> bool:
    return bool(text[:offset].strip())


def find_quote_start(text: str) -> int | None:
    """Offset of the first line of quoted history, or None."""
    lines, starts = _lines(text)
    for index in range(len(lines)):
        start: int | None = None
        if _SEPARATOR.match(lines[index]) or _is_attribution(lines, index):
            start = starts[index]
        elif _is_header_block(lines, index):
            start = starts[_rule_above(lines, index)]
        if start is not None and _has_text_before(text, start):
            return start
    trailing = _trailing_quote(lines)
    if trailing is not None and _has_text_before(text, starts[trailing]):
        return starts[trailing]
    return None


def find_signature_start(text: str, end: int | None = None) -> int | None:
    """Offset of the last signature delimiter line before ``end`` (the quote), or None."""
    lines, starts = _lines(text[:end] if end is not None else text)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip(" \t") == "--" and _has_text_before(text, starts[index]):
            return starts[index]
    return None


def fold_points(text: str) -> tuple[int | None, int | None]:
    """(quote_start, signature_start): character offsets into ``text``, each None if absent."""
    quote_start = find_quote_start(text)
    return quote_start, find_signature_start(text, quote_start)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, folded rest): the rest starts at the signature or the quote, whichever is first.

    ``new + rest == text`` always; rest is empty when nothing is to be folded.
    """
    quote_start, signature_start = fold_points(text)
    fold = signature_start if signature_start is not None else quote_start
    if fold is None:
        return text, ""
    return text[:fold], text[fold:]
