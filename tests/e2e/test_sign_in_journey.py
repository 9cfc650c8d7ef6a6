"""An agent signs in, switches the language to English and back, and signs out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, Login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
# /agent itself, or the view it opens (web-lists decides which).
WORKSPACE = re.compile(r"/agent(/[^?]*)?$")


def test_sign_in_switch_language_and_sign_out(
    page: Page,
    e2e: E2EServer,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto("/agent")
    # Not signed in: the sign-in page, which brings the agent back afterwards.
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fagent$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    screenshot(page, "login")

    page.fill("#email", e2e.agent.email)
    page.fill("#password", "not the password")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()

    page.fill("#password", e2e.agent.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(WORKSPACE)
    expect(page.locator(".account-name")).to_have_text(e2e.agent.name)
    expect(page.locator("#sidenav")).to_be_visible()
    screenshot(page, "workspace")

    page.click(".topbar .language-switch button[value=en]")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(WORKSPACE)
    screenshot(page, "workspace-en")

    page.click(".topbar .language-switch button[value=zh_CN]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.click(".account-menu summary")
    page.click(".account-menu form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("#flash .flash")).to_be_visible()
    page.goto("/account/preferences")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount%2Fpreferences$"))


def test_keyboard_help_opens_with_question_mark(
    page: Page, e2e: E2EServer, sign_in: Callable[[Page, Login], None]
) -> None:
    sign_in(page, e2e.agent)
    page.keyboard.press("?")
    dialog = page.locator("dialog.shortcut-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("kbd", has_text="j")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Typing a "?" into the search box is text, not a shortcut.
    page.fill("#global-search", "")
    page.locator("#global-search").press("?")
    expect(dialog).to_be_hidden()
    expect(page.locator("#global-search")).to_have_value("?")


def test_on_a_phone_the_side_nav_is_a_menu(
    phone_page: Page,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    sign_in(phone_page, e2e.agent)
    nav = phone_page.locator("#sidenav")
    toggle = phone_page.locator("[data-nav-toggle]")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_visible()
    screenshot(phone_page, "workspace-phone")
    toggle.click()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(phone_page, "workspace-phone-menu")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
