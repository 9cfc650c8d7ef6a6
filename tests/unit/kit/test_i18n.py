"""closeloop.kit.i18n: lazy strings and locale spelling."""

from __future__ import annotations

import pytest

from closeloop.kit.i18n import DEFAULT_LOCALE, LazyString, _, normalise_locale

CLOSED = "Ticket {number} is closed and cannot change. Create a follow-up ticket instead."


def test_lazy_string_renders_named_parameters_in_english() -> None:
    assert _(CLOSED).render("en", number="CL-1042") == (
        "Ticket CL-1042 is closed and cannot change. Create a follow-up ticket instead."
    )


def test_lazy_string_renders_named_parameters_in_chinese() -> None:
    assert _(CLOSED).render("zh-CN", number="CL-1042") == (
        "工单 CL-1042 已关闭，无法再修改。请改为创建一个后续工单。"
    )


def test_lazy_string_renders_in_the_default_locale_without_one() -> None:
    assert DEFAULT_LOCALE == "en"
    assert _("Ticket {ticket_id} does not exist.").render(None, ticket_id=7) == (
        "Ticket 7 does not exist."
    )
    assert str(_("Ticket closed")) == "Ticket closed"


def test_lazy_string_without_parameters_is_returned_as_translated() -> None:
    assert _("Ticket closed").render("zh_CN") == "工单已关闭"


def test_lazy_string_missing_parameter_raises() -> None:
    with pytest.raises(KeyError, match="number"):
        _(CLOSED).render("en", ticket="CL-1")


def test_lazy_strings_compare_by_message() -> None:
    assert _("Ticket closed") == _("Ticket closed")
    assert _("Ticket closed") != _("Ticket merged")
    assert _("Ticket closed") != "Ticket closed"
    assert len({_("Ticket closed"), _("Ticket closed")}) == 1
    assert repr(_("Ticket closed")) == "_('Ticket closed')"
    assert isinstance(_("Ticket closed"), LazyString)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "en", id="none_case"),
        pytest.param("", "en", id="empty_case"),
        pytest.param("zh", "zh_CN", id="bare_chinese_case"),
        pytest.param("zh-CN", "zh_CN", id="hyphen_case"),
        pytest.param("zh_CN", "zh_CN", id="underscore_case"),
        pytest.param("zh_Hans", "zh_CN", id="script_case"),
        pytest.param(" ZH-cn ", "zh_CN", id="spaces_and_capitals_case"),
        pytest.param("en", "en", id="english_case"),
        pytest.param("en-US", "en", id="american_case"),
        pytest.param("EN_gb", "en", id="british_case"),
        pytest.param("fr", "en", id="unsupported_case"),
    ],
)
def test_normalise_locale_maps_spellings_onto_supported_locales(
    value: str | None, expected: str
) -> None:
    assert normalise_locale(value) == expected
