"""Text → search tokens that work for Chinese without a dictionary (pure).

Both search back ends index the *output* of :func:`document_text`, never the raw text:

* SQLite FTS5 with the ``unicode61`` tokenizer, which splits on anything that is not a letter or a
  number and would otherwise keep a whole run of Chinese characters as one token;
* PostgreSQL ``to_tsvector('simple', ...)``.

Tokenising a text:

1. NFKC normalisation: full-width letters and digits become ASCII, half-width Katakana full-width;
2. Unicode case folding, a context-free lower case: ``Straße`` and ``STRASSE`` meet, and a Greek
   sigma folds the same wherever it stands;
3. combining marks left over are dropped, so ``İstanbul`` (folded to ``i`` plus a combining dot)
   and words of scripts that write vowels as marks stay whole;
4. runs of letters and digits outside CJK become words (at most 64 characters); anything else
   separates them;
5. every run of CJK characters (Han, Hiragana, Katakana, Hangul) becomes its overlapping
   character bigrams, so ``打印机`` is indexed as ``打印 印机``, and a search for any two or more
   adjacent characters of the run is an ``AND`` of bigrams. A run of one character stays as it is.

Every token contains only letters and digits (Unicode categories L* and N*): the ``unicode61``
tokenizer keeps it whole, and the query builders need no escaping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

MAX_WORD_LENGTH = 64
MAX_QUERY_TERMS = 16
PREFIX_MIN_LENGTH = 2

# Han, Hiragana, Katakana and Hangul blocks; only the letters and digits inside them count.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK Radicals Supplement, Kangxi Radicals
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3038, 0x303C),  # Hangzhou numerals, vertical iteration mark, masu mark
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),  # Hangul Syllables, Hangul Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFFDC),  # half-width Katakana and Hangul
    (0x1AFF0, 0x1B16F),  # Kana Extended-B, Kana Supplement, Kana Extended-A, Small Kana
    (0x20000, 0x323AF),  # CJK Unified Ideographs Extensions B to H, Compatibility Supplement
)
_CJK_CLASS = "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _CJK_RANGES) + "]"
# ``[^\W_]`` is exactly the characters for which ``str.isalnum()`` is true.
_ALNUM = r"[^\W_]"
_RUN = re.compile(
    rf"(?P<cjk>(?:(?={_ALNUM}){_CJK_CLASS})+)|(?P<word>(?:(?!{_CJK_CLASS}){_ALNUM})+)"
)
_TERM = re.compile(rf"{_ALNUM}+")
_CJK_CHARACTER = re.compile(_CJK_CLASS)


def document_text(*parts: str) -> str:
    """The text to store in the search index for ``parts`` (subject, body…), tokens space-joined.

    Order is kept and duplicates are kept (they weigh in ranking). Parts never run into each other.
    """
    return " ".join(token for part in parts for token in _tokens(part))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a search box entry, in first-seen order, at most 16."""
    terms: dict[str, None] = {}
    for token in _tokens(text):
        terms.setdefault(token, None)
        if len(terms) == MAX_QUERY_TERMS:
            break
    return list(terms)


def fts5_match_expression(terms: Iterable[str]) -> str:
    """An FTS5 ``MATCH`` expression requiring every term: ``"打印" AND "print"*``.

    Word terms of two characters or more match as prefixes. No terms give an empty string, which
    FTS5 refuses: callers skip the search when :func:`query_terms` found nothing.
    """
    return " AND ".join(
        f'"{term}"*' if _is_prefix_term(term) else f'"{term}"' for term in _checked(terms)
    )


def tsquery_expression(terms: Iterable[str]) -> str:
    """A PostgreSQL ``to_tsquery('simple', ...)`` expression requiring every term.

    For example ``打印 & print:*``. No terms give an empty string, which ``to_tsquery`` takes as
    a query matching nothing (with a notice): callers skip the search instead.
    """
    return " & ".join(f"{term}:*" if _is_prefix_term(term) else term for term in _checked(terms))


class _WithoutMarks(dict[int, int | None]):
    """A ``str.translate`` table deleting combining marks, filled as characters are met."""

    def __missing__(self, codepoint: int) -> int | None:
        kept = None if unicodedata.category(chr(codepoint)).startswith("M") else codepoint
        self[codepoint] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def _tokens(text: str) -> Iterator[str]:
    normalised = unicodedata.normalize("NFKC", text).casefold()
    if not normalised.isascii():
        normalised = normalised.translate(_WITHOUT_MARKS)
    for match in _RUN.finditer(normalised):
        cjk = match.group("cjk")
        if cjk is None:
            yield match.group("word")[:MAX_WORD_LENGTH]
        elif len(cjk) == 1:
            yield cjk
        else:
            for start in range(len(cjk) - 1):
                yield cjk[start : start + 2]


def _checked(terms: Iterable[str]) -> Iterator[str]:
    for term in terms:
        if _TERM.fullmatch(term) is None:
            raise ValueError(f"search term {term!r} is not made of letters and digits only")
        yield term


def _is_prefix_term(term: str) -> bool:
    return len(term) >= PREFIX_MIN_LENGTH and _CJK_CHARACTER.match(term) is None
