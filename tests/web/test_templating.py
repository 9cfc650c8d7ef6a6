"""Filters and helpers of the page templates (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.kit.i18n import _
from closeloop.web.deps import safe_next
from closeloop.web.templating import (
    describe_age,
    describe_remaining,
    environment,
    format_local,
)

NOON_UTC = datetime(2026, 11, 25, 6, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "time_zone", "expected"),
    [
        ("zh_CN", "Asia/Shanghai", "2026年11月25日 14:05"),
        ("en", "Asia/Shanghai", "25 Nov 2026, 14:05"),
        ("en", "Europe/Berlin", "25 Nov 2026, 07:05"),
        ("zh_CN", "America/Los_Angeles", "2026年11月24日 22:05"),
    ],
)
def test_localtime_uses_the_time_zone_and_the_locale_format(
    locale: str, time_zone: str, expected: str
) -> None:
    assert format_local(NOON_UTC, locale=locale, time_zone=time_zone) == expected


def test_localtime_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_local(datetime(2026, 11, 25, 6, 5), locale="en", time_zone="UTC")  # noqa: DTZ001


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert format_local(NOON_UTC, locale="en", time_zone="Mars/Olympus", style="time") == "06:05"


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=5), "5 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=4), "4 days ago"),
        (timedelta(minutes=-20), "in 20 minutes"),
        (timedelta(days=40), "16 Oct 2026"),
    ],
)
def test_timeago(age: timedelta, expected: str) -> None:
    text = describe_age(NOON_UTC - age, now=NOON_UTC, locale="en", time_zone="Asia/Shanghai")
    assert text == expected


def test_timeago_is_translated() -> None:
    text = describe_age(
        NOON_UTC - timedelta(minutes=5), now=NOON_UTC, locale="zh_CN", time_zone="Asia/Shanghai"
    )
    expected = _("{span} ago").render("zh_CN", span=_("{count} minutes").render("zh_CN", count=5))
    assert text == expected


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(hours=2, minutes=5), "2 h 05 min left"),
        (timedelta(minutes=42), "42 min left"),
        (timedelta(days=3, hours=4), "3 d 4 h left"),
        (timedelta(minutes=-15), "15 min overdue"),
    ],
)
def test_countdown(left: timedelta, expected: str) -> None:
    assert describe_remaining(NOON_UTC + left, now=NOON_UTC, locale="en") == expected


def _render(source: str, **context: object) -> str:
    return (
        environment()
        .from_string(source)
        .render(
            {
                "locale": "en",
                "time_zone": "Asia/Shanghai",
                "now": NOON_UTC,
                "_": lambda message, **params: str(message).format(**params),
                **context,
            }
        )
    )


def test_badges_show_translated_labels_and_classes() -> None:
    html = _render(
        '{% from "components/badges.html" import status_badge, priority_badge, sla_countdown'
        " with context %}"
        "{{ status_badge('in_progress') }}|{{ priority_badge('P1') }}|"
        "{{ sla_countdown(due, 'warning') }}|{{ sla_countdown(due, 'breached') }}",
        due=NOON_UTC + timedelta(minutes=30),
    )
    assert '<span class="badge status status-in-progress">In progress</span>' in html
    assert 'class="badge priority priority-p1" title="Urgent">P1' in html
    assert 'class="sla sla-warning"' in html
    assert "30 min left" in html
    assert 'class="sla sla-breached"' in html


def test_filters_need_the_page_context() -> None:
    with pytest.raises(RuntimeError, match="with context"):
        environment().from_string("{{ 'new' | status_label }}").render()


def test_templates_escape_what_they_show() -> None:
    assert _render("{{ name }}", name="<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"


def test_ticket_number_filter() -> None:
    assert _render("{{ 123 | ticket_number }}") == "TK-000123"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/agent/tickets?q=vpn", "/agent/tickets?q=vpn"),
        ("/account/preferences", "/account/preferences"),
        ("https://evil.example/", "/agent"),
        ("//evil.example/path", "/agent"),
        ("/\\evil.example", "/agent"),
        ("javascript:alert(1)", "/agent"),
        ("agent", "/agent"),
        ("/agent\r\nSet-Cookie: x=1", "/agent"),
        ("", "/agent"),
        (None, "/agent"),
    ],
)
def test_safe_next_accepts_only_local_paths(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
