"""On a phone-width screen (375×812, an iPhone's) no page scrolls sideways: the sign-in page,
the ticket list (its wide table scrolls inside its own box), the agent's forms and the
customer's web form. Screenshots land in var/test-artifacts/screenshots/phone-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import E2EServer, Login, _page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WIDTH, HEIGHT = 375, 812
OVERFLOW = """() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    wide: Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !e.closest('.table-scroll, .visually-hidden, .hp-field, .skip-link')
                     && getComputedStyle(e).position !== 'fixed'
                     && e.offsetParent !== null)
        .slice(0, 5)
        .map(e => e.tagName + '.' + e.className + '#' + e.id),
})"""


@pytest.fixture
def narrow_page(browser: Browser, e2e: E2EServer) -> Iterator[Page]:
    yield from _page(browser, e2e, WIDTH, HEIGHT)


def _assert_fits(page: Page, name: str, screenshot: Callable[[Page, str], Path]) -> None:
    page.wait_for_load_state("networkidle")
    screenshot(page, f"phone-{name}")
    found = page.evaluate(OVERFLOW)
    assert found["scroll"] <= found["inner"], f"{name} scrolls sideways: {found}"


def test_public_pages_fit_a_phone(
    narrow_page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    for name, path in (
        ("login", "/login"),
        ("web-form", "/forms/new"),
        ("web-form-request", "/forms/new?type=request"),
        ("not-found", "/t/TK-000001/wrong-token"),
    ):
        narrow_page.goto(path)
        _assert_fits(narrow_page, name, screenshot)


def test_agent_pages_fit_a_phone(
    narrow_page: Page,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    sign_in(narrow_page, e2e.supervisor)
    for name, path in (
        ("ticket-list", "/agent/tickets"),
        ("view-all-open", "/agent/views/all_open"),
        ("new-ticket", "/agent/tickets/new"),
        ("preferences", "/account/preferences"),
        ("password", "/account/password"),
    ):
        narrow_page.goto(path)
        _assert_fits(narrow_page, name, screenshot)
    # The top bar leaves the search box room to type ("New ticket" shrinks to "+").
    narrow_page.goto("/agent/tickets")
    search = narrow_page.locator("#global-search").bounding_box()
    assert search is not None
    assert search["width"] >= 100, search
    assert (
        narrow_page.get_by_role("link", name="New ticket")
        .or_(narrow_page.get_by_role("link", name="新建工单"))
        .is_visible()
    )
    # The account menu keeps its name when the name is hidden from sight.
    expect(narrow_page.locator(".account-menu summary")).to_have_accessible_name(
        e2e.supervisor.name
    )
    # The side navigation opens as a menu behind the ☰ button and fits too.
    narrow_page.goto("/agent/tickets")
    narrow_page.click("[data-nav-toggle]")
    _assert_fits(narrow_page, "ticket-list-menu", screenshot)
    narrow_page.click("[data-nav-toggle]")
    # The filters and the bulk bar's options unfolded.
    narrow_page.click(".list-filters summary")
    _assert_fits(narrow_page, "ticket-list-filters", screenshot)
    narrow_page.select_option("#bulk-action", "merge")
    narrow_page.click(".save-view summary")
    _assert_fits(narrow_page, "ticket-list-bulk-merge", screenshot)
