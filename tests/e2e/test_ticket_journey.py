"""An agent works one ticket from search to resolution, while a colleague looks at it too and
the customer writes again: both show up on the agent's page without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import E2EServer, Login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Live updates cross a server, a stream and htmx: allow for a busy machine.
WAIT = 15_000


def _customer_token(e2e: E2EServer, email: str) -> str:
    output = e2e.cli("token", "create", "--email", email, "--name", "e2e customer")
    return next(
        word for line in output.splitlines() for word in line.split() if word.startswith("clp_")
    )


def _blur(page: Page) -> None:
    """Leave the reply box, so the next key is a shortcut rather than text."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def test_search_reply_note_assign_resolve_and_live_updates(
    page: Page,
    browser: Browser,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    team_id = e2e.api("GET", f"/tickets/{e2e.ticket_ids[0]}")["team_id"]
    customer_id = e2e.api("GET", f"/tickets/{e2e.ticket_ids[0]}")["requester_id"]
    ticket = e2e.api(
        "POST",
        "/tickets",
        {
            "subject": "Scanner 扫描仪 offline zebrafinch",
            "description": "The scanner on floor 3 is offline.\n三楼的扫描仪离线了。",
            "requester_id": customer_id,
            "team_id": team_id,
        },
    )
    number = ticket["number"]
    sign_in(page, e2e.agent)

    # Find it by searching.
    page.fill("#global-search", "zebrafinch")
    page.locator("#global-search").press("Enter")
    page.wait_for_url(re.compile(r"/agent/tickets\?q=zebrafinch"))
    page.locator(f"a[href='/agent/tickets/{ticket['id']}']").first.click()
    page.wait_for_url(re.compile(rf"/agent/tickets/{ticket['id']}$"))
    expect(page.locator(".ticket-number")).to_have_text(number, timeout=WAIT)
    expect(page.locator("body")).to_have_attribute(
        "data-live-topics", f"ticket:{ticket['id']}", timeout=WAIT
    )

    # Reply ("r"): the thread refreshes and the box clears.
    page.keyboard.press("r")
    page.keyboard.type("您好，请重启扫描仪后再试。Please restart the scanner.")
    page.click("#reply-form button[type=submit]")
    reply = page.locator("#thread article.message-public-reply")
    expect(reply).to_contain_text("Please restart the scanner.", timeout=WAIT)
    expect(page.locator("#reply-body")).to_have_value("", timeout=WAIT)

    # A note ("n"): shown as internal.
    _blur(page)
    page.keyboard.press("n")
    page.keyboard.type("Floor 3 switch was replaced yesterday.")
    page.click("#reply-form button[type=submit]")
    note = page.locator("#thread article.message-internal-note")
    expect(note).to_contain_text("Floor 3 switch", timeout=WAIT)
    expect(note.locator(".label-internal")).to_be_visible(timeout=WAIT)

    # Assign to me ("a"). The note's own live event refreshes the field panel; a key pressed
    # while that swap removes the button is lost (htmx sends nothing for a detached element),
    # as an agent would see it: so wait for the page to settle, and press again if it was.
    assignee = page.locator("#fields select[name=assignee_id] option:checked")
    for _attempt in range(3):
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        _blur(page)
        page.keyboard.press("a")
        try:
            expect(assignee).to_have_text(e2e.agent.name, timeout=5_000)
            break
        except AssertionError:
            continue
    expect(assignee).to_have_text(e2e.agent.name, timeout=WAIT)

    # A colleague opens the same ticket: each sees the other.
    colleague_context = browser.new_context(base_url=e2e.base_url, locale="zh-CN")
    try:
        colleague = colleague_context.new_page()
        sign_in(colleague, e2e.supervisor)
        colleague.goto(f"/agent/tickets/{ticket['id']}")
        expect(colleague.locator(".presence-others")).to_have_attribute(
            "data-viewers", e2e.agent.name, timeout=WAIT
        )
        expect(page.locator(".presence-others")).to_have_attribute(
            "data-viewers", e2e.supervisor.name, timeout=WAIT
        )
    finally:
        colleague_context.close()
    screenshot(page, "ticket-page")

    # Resolve: only legal moves are offered afterwards.
    page.click("#fields button[data-status=resolved]")
    expect(page.locator("#fields button[data-status=closed]")).to_be_visible(timeout=WAIT)
    assert e2e.api("GET", f"/tickets/{ticket['id']}")["status"] == "resolved"

    # The customer writes again through the API: it appears live and reopens the ticket.
    token = _customer_token(e2e, "wang.fang@example.cn")
    posted = httpx.post(
        f"{e2e.base_url}/api/v1/tickets/{ticket['id']}/messages",
        json={"body": "还是不行 still offline"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    customer_message = page.locator("#thread article.message-customer-message")
    expect(customer_message).to_contain_text("still offline", timeout=WAIT)
    expect(page.locator("#fields button[data-status=resolved]")).to_be_visible(timeout=WAIT)
    screenshot(page, "ticket-page-live")
