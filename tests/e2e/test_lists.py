"""An agent works from the ticket views: opens a view, moves through it with j/k, opens a
ticket with o, takes one with a, and sees a ticket created elsewhere appear without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, Login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _new_ticket(e2e: E2EServer, subject: str) -> dict[str, object]:
    seeded = e2e.api("GET", f"/tickets/{e2e.ticket_ids[0]}")
    ticket: dict[str, object] = e2e.api(
        "POST",
        "/tickets",
        {
            "subject": subject,
            "description": subject,
            "requester_id": seeded["requester_id"],
            "team_id": seeded["team_id"],
        },
    )
    return ticket


def test_views_keyboard_and_live_list(
    page: Page,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    first = _new_ticket(e2e, "Lists journey: monitor flickers 显示器闪烁")
    second = _new_ticket(e2e, "Lists journey: keyboard missing keys")
    sign_in(page, e2e.agent)

    # Open the "unassigned in my teams" view from the side navigation.
    page.goto("/agent")
    page.wait_for_url(re.compile(r"/agent/views/mine$"))
    page.locator("#sidenav a[data-view='unassigned']").click()
    page.wait_for_url(re.compile(r"/agent/views/unassigned$"))
    expect(page.locator("#sidenav a[data-view='unassigned']")).to_have_attribute(
        "aria-current", "page"
    )
    rows = page.locator("#ticket-rows tr[data-row]")
    expect(page.locator(f"#ticket-rows tr[data-row='{first['id']}']")).to_be_visible()
    expect(page.locator(f"#ticket-rows tr[data-row='{second['id']}']")).to_be_visible()
    screenshot(page, "lists-unassigned")

    # j / k move the keyboard cursor; o opens the ticket under it.
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-current\b"))
    opened = rows.nth(0).get_attribute("data-href")
    assert opened is not None
    page.keyboard.press("o")
    page.wait_for_url(re.compile(re.escape(opened) + "$"))

    # Back on the list, "a" takes the current row: it leaves the unassigned view.
    page.goto("/agent/views/unassigned")
    count = page.locator("[data-count-for='unassigned']")
    waiting = int(count.inner_text())
    page.keyboard.press("j")
    taken = rows.nth(0).get_attribute("data-row")
    page.keyboard.press("a")
    expect(page.locator("#flash")).to_contain_text("1")
    expect(page.locator(f"#ticket-rows tr[data-row='{taken}']")).to_have_count(0)
    assert e2e.api("GET", f"/tickets/{taken}")["assignee_id"] is not None
    expect(count).to_have_text(str(waiting - 1))

    # A ticket created through the API shows up in the open list without a reload, and the
    # view's count in the side navigation follows.
    marker = page.evaluate("window.__listMarker = Math.random()")
    created = _new_ticket(e2e, "Lists journey: arrived live 实时")
    expect(page.locator(f"#ticket-rows tr[data-row='{created['id']}']")).to_be_visible(
        timeout=15_000
    )
    expect(count).to_have_text(str(waiting))
    assert page.evaluate("window.__listMarker") == marker  # the same page: no reload
    screenshot(page, "lists-live")


def test_mid_selection_a_banner_waits_instead_of_moving_rows(
    page: Page, e2e: E2EServer, sign_in: Callable[[Page, Login], None]
) -> None:
    _new_ticket(e2e, "Lists journey: selected while others arrive")
    sign_in(page, e2e.supervisor)
    page.goto("/agent/views/all_open")
    page.locator("#ticket-rows [data-select-row]").first.check()
    expect(page.locator("[data-selection-count]")).to_contain_text("1")
    created = _new_ticket(e2e, "Lists journey: waits behind the banner")
    banner = page.locator("#list-banner")
    expect(banner).to_be_visible(timeout=15_000)
    expect(page.locator(f"#ticket-rows tr[data-row='{created['id']}']")).to_have_count(0)
    banner.locator("[data-list-refresh]").click()
    expect(page.locator(f"#ticket-rows tr[data-row='{created['id']}']")).to_be_visible()
    expect(banner).to_be_hidden()
