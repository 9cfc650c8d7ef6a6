import itertools
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.kit.search_tokens import (
    MAX_QUERY_TERMS,
    MAX_WORD_LENGTH,
    document_text,
    fts5_match_expression,
    query_terms,
    tsquery_expression,
)

FORBIDDEN_IN_TERMS = frozenset(" \t\r\n\"'&|!():*\\<>-")

WORD_CHARACTERS = "abcxyzABCXYZ0189éßΣσКжＡＺａｚ０９"
CJK_CHARACTERS = "打印机无法连接网络系统登录密码重置邮件かなカナプリンタ한국어메일"
SEPARATORS = " ,.!?;:-_/\t\n。，、！？()[]\"'*&|😀🎉"


def test_chinese_text_becomes_overlapping_bigrams() -> None:
    assert document_text("打印机无法连接网络") == "打印 印机 机无 无法 法连 连接 接网 网络"


def test_mixed_text_keeps_words_and_bigrams_in_order() -> None:
    assert document_text("VPN 连不上 error 0x800") == "vpn 连不 不上 error 0x800"


def test_latin_and_chinese_written_together_are_split() -> None:
    assert document_text("VPN连不上error0x800") == "vpn 连不 不上 error0x800"


def test_single_chinese_character_stays_alone() -> None:
    assert document_text("打 印 A 机") == "打 印 a 机"


def test_full_width_letters_and_digits_become_ascii() -> None:
    assert document_text("ＶＰＮ　Ｅｒｒｏｒ　０ｘ８００") == "vpn error 0x800"


def test_half_width_katakana_become_full_width() -> None:
    assert document_text("ﾌﾟﾘﾝﾀ") == "プリ リン ンタ"


def test_japanese_and_korean_runs_become_bigrams() -> None:
    assert document_text("かなカナ 한국어") == "かな なカ カナ 한국 국어"


def test_emoji_and_punctuation_are_dropped() -> None:
    assert document_text("😀打印！！！ printer... 🎉 (error) ##") == "打印 printer error"


def test_underscore_separates_words() -> None:
    assert document_text("SQLITE_ERROR") == "sqlite error"


def test_case_folding_is_context_free() -> None:
    assert document_text("Straße STRASSE ΟΔΟΣ.Α ΟΔΟΣ") == "strasse strasse οδοσ α οδοσ"


def test_combining_marks_do_not_split_words() -> None:
    assert document_text("İstanbul cafe\u0301") == "istanbul café"


def test_words_are_capped() -> None:
    assert document_text("a" * 100 + " b") == "a" * MAX_WORD_LENGTH + " b"


def test_parts_never_run_into_each_other() -> None:
    assert document_text("打印", "机器", "vpn") == "打印 机器 vpn"


def test_duplicates_are_kept_in_documents() -> None:
    assert document_text("error error 打印打印") == "error error 打印 印打 打印"


def test_nothing_to_index_gives_empty_text() -> None:
    assert document_text() == ""
    assert document_text("", "!!! 😀", "   ") == ""


def test_query_terms_drop_duplicates_in_first_seen_order() -> None:
    assert query_terms("Error error 打印 ERROR 打印 vpn") == ["error", "打印", "vpn"]


def test_query_terms_are_capped() -> None:
    text = " ".join(f"w{index}" for index in range(MAX_QUERY_TERMS + 4))
    assert query_terms(text) == [f"w{index}" for index in range(MAX_QUERY_TERMS)]


def test_query_terms_of_chinese_search() -> None:
    assert query_terms("打印机 连不上") == ["打印", "印机", "连不", "不上"]


def test_fts5_expression_quotes_terms_and_prefixes_words() -> None:
    expression = fts5_match_expression(["打印", "print", "a", "0x800", "7", "机"])
    assert expression == '"打印" AND "print"* AND "a" AND "0x800"* AND "7" AND "机"'


def test_tsquery_expression_joins_terms_and_prefixes_words() -> None:
    expression = tsquery_expression(["打印", "print", "a", "0x800", "7", "机"])
    assert expression == "打印 & print:* & a & 0x800:* & 7 & 机"


def test_query_of_mixed_text_gives_both_expressions() -> None:
    terms = query_terms("VPN 连不上 error 0x800")
    assert fts5_match_expression(terms) == '"vpn"* AND "连不" AND "不上" AND "error"* AND "0x800"*'
    assert tsquery_expression(terms) == "vpn:* & 连不 & 不上 & error:* & 0x800:*"


def test_no_terms_give_empty_expressions() -> None:
    assert fts5_match_expression([]) == ""
    assert tsquery_expression([]) == ""


@pytest.mark.parametrize(
    "term",
    ['a"b', "a b", "", "print*", "x&y", "a:b", "a_b", "(a)", "a\n"],
    ids=[
        "quote_case",
        "space_case",
        "empty_case",
        "star_case",
        "ampersand_case",
        "colon_case",
        "underscore_case",
        "parenthesis_case",
        "newline_case",
    ],
)
def test_expressions_refuse_terms_that_are_not_letters_and_digits(term: str) -> None:
    with pytest.raises(ValueError, match="letters and digits only"):
        fts5_match_expression(["ok", term])
    with pytest.raises(ValueError, match="letters and digits only"):
        tsquery_expression(["ok", term])


@given(st.text())
def test_terms_never_need_escaping(text: str) -> None:
    terms = query_terms(text)
    for term in terms:
        assert term
        assert not FORBIDDEN_IN_TERMS.intersection(term)
        assert all(unicodedata.category(character)[0] in "LN" for character in term)
    fts5_match_expression(terms)
    tsquery_expression(terms)


@given(st.text())
def test_document_tokens_are_single_space_separated(text: str) -> None:
    indexed = document_text(text)
    assert " ".join(indexed.split()) == indexed
    assert all(len(token) <= MAX_WORD_LENGTH for token in indexed.split())


@given(st.text())
def test_query_terms_are_the_first_distinct_document_tokens(text: str) -> None:
    assert query_terms(text) == list(dict.fromkeys(document_text(text).split()))[:MAX_QUERY_TERMS]


@given(st.text(), st.text())
def test_a_space_separates_tokens_of_any_text(first: str, second: str) -> None:
    assert document_text(f"{first} {second}") == document_text(first, second)


@st.composite
def segmented_documents(draw: st.DrawFn) -> tuple[list[str], int, int]:
    """A document as pieces (segment, separator, segment…) and a slice of whole segments."""
    words = st.text(alphabet=WORD_CHARACTERS, min_size=1, max_size=80)
    cjk_runs = st.text(alphabet=CJK_CHARACTERS, min_size=1, max_size=8)
    separators = st.text(alphabet=SEPARATORS, min_size=1, max_size=3)
    segments = draw(
        st.lists(
            st.one_of(st.tuples(st.just("word"), words), st.tuples(st.just("cjk"), cjk_runs)),
            min_size=1,
            max_size=12,
        )
    )
    pieces = [segments[0][1]]
    for (previous_kind, _previous), (kind, segment) in itertools.pairwise(segments):
        # Segments of different kinds may touch: the boundary between them is a token boundary.
        separator = separators if kind == previous_kind else st.just("") | separators
        pieces += [draw(separator), segment]
    first = draw(st.integers(0, len(segments) - 1))
    last = draw(st.integers(first, len(segments) - 1))
    return pieces, first, last


@given(segmented_documents())
def test_every_term_of_a_whole_segment_slice_is_in_the_document(
    case: tuple[list[str], int, int],
) -> None:
    pieces, first, last = case
    document = "".join(pieces)
    query = "".join(pieces[2 * first : 2 * last + 1])
    assert set(query_terms(query)) <= set(document_text(document).split())
