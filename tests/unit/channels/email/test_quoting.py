"""Where the new text ends: quoted history and signatures (split_quoted and the fold points)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.channels.email.quoting import fold_points, split_quoted

NEW = "Hi team,\nthe printer on floor 3 is offline again.\n\n"


@pytest.mark.parametrize(
    "quoted",
    [
        pytest.param(
            "On Mon, 23 Nov 2026 at 09:00, Support <support@closeloop.example> wrote:\n> Fixed.\n",
            id="gmail_case",
        ),
        pytest.param(
            "On Mon, Nov 23, 2026 at 9:00 AM Support Team <\nsupport@closeloop.example> wrote:\n\n"
            "> Fixed.\n",
            id="gmail_wrapped_case",
        ),
        pytest.param(
            "在 2026年11月23日 星期一 09:00，客服 <support@closeloop.example> 写道：\n> 已修复。\n",
            id="chinese_attribution_case",
        ),
        pytest.param("於 2026/11/23 09:00, 客服 寫道:\n> 已修復。\n", id="traditional_case"),
        pytest.param(
            "-----Original Message-----\nFrom: Support\nSent: Monday\n\nFixed.\n", id="outlook_case"
        ),
        pytest.param(
            "-----原始邮件-----\n发件人: 客服\n时间: 周一\n\n已修复。\n", id="original_zh_case"
        ),
        pytest.param(
            "------------------\xa0原始邮件\xa0------------------\n发件人: 客服\n",
            id="qq_mail_case",
        ),
        pytest.param(
            "________________________________\nFrom: Support <support@closeloop.example>\n"
            "Sent: Monday, November 23, 2026 9:00 AM\nTo: Me\nSubject: RE: printer\n\nFixed.\n",
            id="outlook_block_case",
        ),
        pytest.param(
            "*From:* Support <support@closeloop.example>\n*Date:* Mon, 23 Nov 2026\n",
            id="bold_case",
        ),
        pytest.param(
            "发件人： 客服中心 <support@closeloop.example>\n发送时间： 2026年11月23日 9:00\n"
            "收件人： 我\n主题： 回复：打印机\n\n已修复。\n",
            id="outlook_zh_block_case",
        ),
        pytest.param("> Fixed.\n>\n> Support\n\n", id="trailing_quote_case"),
        pytest.param("-- \nJane Doe\nIT department\n", id="signature_case"),
        pytest.param("--\nJane Doe\n", id="signature_without_space_case"),
        pytest.param(
            "-- \nJane\n\nOn Mon, Support wrote:\n> Fixed.\n", id="signature_then_quote_case"
        ),
    ],
)
def test_new_text_ends_where_the_quote_or_signature_starts(quoted: str) -> None:
    assert split_quoted(NEW + quoted) == (NEW, quoted)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Hello,\nplease call me on Monday.\n", id="plain_case"),
        pytest.param("On Monday the printer broke.\nIt still is.\n", id="on_sentence_case"),
        pytest.param("> quoted first\n\nthen my answer\n", id="bottom_posting_case"),
        pytest.param("> a\nanswer a\n> b\nanswer b\n", id="interleaved_case"),
        pytest.param("-----Original Message-----\nFrom: x\n", id="only_a_quote_case"),
        pytest.param("", id="empty_case"),
        pytest.param("Date: Monday\nFrom: someone\n", id="date_before_from_case"),
        pytest.param(
            "Thanks\nOn " + "and on " * 60 + "it wrote:\n", id="attribution_too_long_case"
        ),
        pytest.param("Thanks\nOn Monday\n\nthe printer wrote:\n", id="blank_line_inside_case"),
        pytest.param(
            "Thanks\nOn Monday we\ntalked about\nthe printer and\nhe wrote:\n",
            id="attribution_over_four_lines_case",
        ),
    ],
)
def test_nothing_to_fold(text: str) -> None:
    assert split_quoted(text) == (text, "")
    assert fold_points(text) == (None, None)


def test_interleaved_reply_folds_only_the_quote_at_the_end() -> None:
    text = "> a\nanswer a\n> b\nanswer b\n\n> c\n> d\n"
    assert split_quoted(text) == ("> a\nanswer a\n> b\nanswer b\n\n", "> c\n> d\n")


def test_fold_points_are_offsets_of_both() -> None:
    text = "Thanks\n-- \nJane\nOn Mon, Support wrote:\n> ok\n"
    assert fold_points(text) == (text.index("On Mon"), text.index("-- "))


def test_a_signature_inside_the_quote_is_not_ours() -> None:
    text = "Thanks\nOn Mon, Support wrote:\n> ok\n> -- \n> Support\n"
    assert fold_points(text) == (text.index("On Mon"), None)


def test_windows_line_ends() -> None:
    text = "Thanks\r\n\r\n-----Original Message-----\r\nFrom: x\r\n"
    assert split_quoted(text) == ("Thanks\r\n\r\n", "-----Original Message-----\r\nFrom: x\r\n")


# -- property: the new text comes back unchanged ---------------------------------------------

# New text: words of letters, digits, Chinese and punctuation that none of the markers use
# (no ":", "：", ">", "-", "_", "*"), on lines that do not open an attribution.
_WORD = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "你好请帮忙处理谢谢账户登录发票问题，。！？,.!?'()"
    ),
    min_size=1,
    max_size=12,
)
_LINE = (
    st.lists(_WORD, min_size=1, max_size=8)
    .map(" ".join)
    .filter(lambda line: not line.startswith(("On", "在", "於", "于")))
)
_NEW_TEXT = (
    st.lists(st.one_of(_LINE, st.just("")), min_size=1, max_size=6)
    .filter(lambda lines: any(lines))
    .map(lambda lines: "\n".join(lines) + "\n")
)
_NAME = st.sampled_from(["Support", "客服中心", "Jane Doe", "张三 <zhang@example.cn>"])
_QUOTED_LINE = _LINE.map(lambda line: "> " + line)
_BODY = st.lists(_LINE, min_size=0, max_size=3).map(lambda lines: "".join(f"{x}\n" for x in lines))


@st.composite
def _quoted(draw: st.DrawFn) -> str:
    body = draw(_BODY)
    name = draw(_NAME)
    quotes = "".join(f"{line}\n" for line in draw(st.lists(_QUOTED_LINE, min_size=1, max_size=4)))
    formats = [
        f"On Mon, 23 Nov 2026 at 09:00, {name} wrote:\n{quotes}",
        f"On Mon, 23 Nov 2026 at 09:00, {name}\n<support@closeloop.example> wrote:\n{body}",
        f"在 2026年11月23日 09:00，{name} 写道：\n{quotes}",
        f"-----Original Message-----\nFrom: {name}\nSent: Monday\n\n{body}",
        f"-----原始邮件-----\n发件人: {name}\n发送时间: 2026年11月23日\n\n{body}",
        f"________________________________\n\nFrom: {name}\nSent: Monday\nTo: x\n\n{body}",
        f"发件人：{name}\n发送时间：2026年11月23日\n收件人：我\n\n{body}",
        quotes,
        f"{quotes}\n{quotes}",
        f"-- \n{body}",
        f"--\n{name}\n",
        f"-- \n{name}\n\nOn Mon, {name} wrote:\n{quotes}",
    ]
    return draw(st.sampled_from(formats))


@given(new=_NEW_TEXT, quoted=_quoted())
def test_split_returns_the_new_text_unchanged(new: str, quoted: str) -> None:
    assert split_quoted(new + quoted) == (new, quoted)


@given(text=st.text(max_size=300))
def test_split_is_a_partition_of_any_text(text: str) -> None:
    new, rest = split_quoted(text)
    assert new + rest == text
    assert not rest or new.strip()
