"""Every user-facing string is translated (DESIGN.md §2.4: wrap it in ``_()``; run ``make i18n``).

The extractor of ``tools/i18n.py`` runs over the current tree, so a new ``_("...")`` fails here
until its Simplified Chinese translation is in
``src/closeloop/locale/zh_CN/LC_MESSAGES/messages.po`` in the same commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from tools import i18n as i18n_tool
from tools.i18n import (
    SOURCE_LOCALE,
    TRANSLATED_LOCALE,
    extract_catalog,
    missing_translations,
    placeholder_mismatches,
    read_catalogue,
    render_po,
)

from closeloop.kit.i18n import negotiate_locale, translate

HOW_TO_FIX = (
    "run `make i18n`, then write the msgstr of each entry in "
    "src/closeloop/locale/zh_CN/LC_MESSAGES/messages.po (keep the {placeholders})"
)


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return extract_catalog()


def test_extraction_finds_the_package_strings(extracted: Catalog) -> None:
    assert "Not found" in extracted
    assert "Ticket {ticket_id} does not exist." in extracted


def test_extraction_is_deterministic(extracted: Catalog) -> None:
    assert render_po(extract_catalog()) == render_po(extracted)


def test_extraction_reads_jinja_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "queue.html").write_text(
        "<h1>{{ _('Open tickets') }}</h1>\n"
        "{% trans count=total %}{{ count }} ticket"
        "{% pluralize %}{{ count }} tickets{% endtrans %}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n_tool, "TEMPLATE_DIRS", (tmp_path,))

    catalog = i18n_tool.extract_catalog()

    assert "Open tickets" in catalog
    assert catalog["%(count)s ticket"].id == ("%(count)s ticket", "%(count)s tickets")
    assert "Not found" in catalog


def test_every_extracted_string_has_a_chinese_translation(extracted: Catalog) -> None:
    missing = missing_translations(extracted, read_catalogue(TRANSLATED_LOCALE))

    listed = "\n".join(f"  {message_id!r}" for message_id in missing)
    assert not missing, (
        f"{len(missing)} msgid(s) without a zh_CN translation; {HOW_TO_FIX}:\n{listed}"
    )


def test_chinese_translations_keep_the_placeholders() -> None:
    mismatches = placeholder_mismatches(read_catalogue(TRANSLATED_LOCALE))

    listed = "\n".join(f"  {mismatch}" for mismatch in mismatches)
    assert not mismatches, f"zh_CN translations with other {{placeholders}}:\n{listed}"


def test_english_catalogue_repeats_the_msgid() -> None:
    different = [
        message.id
        for message in read_catalogue(SOURCE_LOCALE)
        if message.id and message.string != message.id
    ]

    assert different == [], "the en catalogue is generated: run `make i18n`"


def test_placeholder_check_reports_a_changed_placeholder() -> None:
    catalog = Catalog(locale=TRANSLATED_LOCALE)
    catalog.add("Ticket {number} closed", "工单 {ticket} 已关闭")
    catalog.add("Team {team_id} does not exist.", "团队 {team_id} 不存在。")
    catalog.add("Limit {limit} bytes", "上限 {limit 字节")

    reported = [mismatch.message_id for mismatch in placeholder_mismatches(catalog)]

    assert reported == ["Limit {limit} bytes", "Ticket {number} closed"]


@pytest.mark.parametrize("locale", ["zh_CN", "zh-CN"])
def test_translate_returns_chinese_for_a_chinese_locale(locale: str) -> None:
    assert translate("Not found", locale) == "未找到"
    assert translate("Ticket closed", locale) == "工单已关闭"


def test_translate_returns_the_msgid_in_english() -> None:
    assert translate("Ticket closed", "en") == "Ticket closed"


def test_translate_falls_back_to_the_msgid_for_an_unknown_string() -> None:
    assert translate("No such message in any catalogue", "zh_CN") == (
        "No such message in any catalogue"
    )


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        pytest.param("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN", id="chinese_browser_case"),
        pytest.param("en-US", "en", id="american_browser_case"),
        pytest.param("fr", "en", id="unsupported_language_case"),
        pytest.param("fr-FR,zh;q=0.5", "zh_CN", id="supported_second_choice_case"),
        pytest.param("en;q=0.4,zh-CN;q=0.7", "zh_CN", id="quality_beats_order_case"),
        pytest.param(None, "en", id="no_header_case"),
    ],
)
def test_negotiate_locale_picks_the_best_supported_locale(
    accept_language: str | None, expected: str
) -> None:
    assert negotiate_locale(accept_language) == expected


def test_negotiate_locale_uses_the_given_default_for_an_unsupported_language() -> None:
    assert negotiate_locale("fr", default="zh_CN") == "zh_CN"
