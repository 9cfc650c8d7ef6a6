"""An admin sets up the desk in the browser: opens the administration from the side
navigation, creates an agent with a temporary password, then a team led by that agent."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, E2EServer, Login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN = Login("admin@example.com", PASSWORD, "Admin")


def test_an_admin_creates_an_agent_and_a_team(
    page: Page,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    sign_in(page, ADMIN)
    page.locator("[data-admin-nav] a[data-view='admin-index']").click()
    page.wait_for_url(re.compile(r"/admin$"))
    expect(page.locator(".area-grid a[data-area='agents']")).to_be_visible()
    screenshot(page, "admin-index")

    page.locator(".area-grid a[data-area='agents']").click()
    page.wait_for_url(re.compile(r"/admin/agents$"))
    page.locator("a[href='/admin/agents/new']").click()
    page.fill("#f-name", "赵敏")
    page.fill("#f-email", "zhao.min@example.com")
    page.select_option("#f-role", "supervisor")
    page.fill("#f-password", "temporary pass 2026")
    page.select_option("#f-time_zone", "Asia/Shanghai")
    page.locator("#agent-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/agents/\d+$"))
    expect(page.locator("#flash")).not_to_be_empty()

    page.goto("/admin/teams")
    page.fill("#f-name", "硬件组")
    page.select_option("#f-lead_id", label="赵敏 <zhao.min@example.com>")
    page.locator("#team-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/teams$"))
    row = page.locator("#teams-table tr", has_text="硬件组")
    expect(row).to_contain_text("赵敏")

    page.goto("/admin/agents")
    agent_row = page.locator("#agents-table tr", has_text="zhao.min@example.com")
    expect(agent_row).to_contain_text("硬件组")
    screenshot(page, "admin-agents")

    agents = {a["email"]: a for a in e2e.api("GET", "/agents")["items"]}
    assert agents["zhao.min@example.com"]["role"] == "supervisor"
