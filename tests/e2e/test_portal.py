"""A customer writes in through the public web form in Chromium (in Chinese), gets the
confirmation with the ticket number and private link, follows the link and replies there."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.e2e.conftest import E2EServer, Login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_web_form_confirmation_private_link_and_reply(
    page: Page, e2e: E2EServer, screenshot: Callable[[Page, str], Path]
) -> None:
    subject = "发票抬头填错了，需要重开"
    page.goto("/forms/new?type=request")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.fill("#name", "陈静")
    page.fill("#email", "chen.jing@example.cn")
    page.fill("#phone", "139 0139 0000")
    page.fill("#subject", subject)
    page.fill("#description", "上周的发票抬头写成了个人，请改为：上海云帆科技有限公司。")
    invoice: FilePayload = {
        "name": "发票.pdf",
        "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4 test",
    }
    page.set_input_files("#files", files=[invoice])
    screenshot(page, "portal-web-form")
    page.click("#web-form button[type=submit]")

    page.wait_for_url(re.compile(r"/forms/done/TK-\d{6}/"))
    number = page.locator("#ticket-number").inner_text()
    assert re.fullmatch(r"TK-\d{6}", number)
    expect(page.locator("#private-link")).to_contain_text(f"/t/{number}/")
    screenshot(page, "portal-confirmation")

    # The browser's back-and-resubmit is the same message: still one ticket.
    ticket_id = int(number.split("-")[1])
    ticket = e2e.api("GET", f"/tickets/{ticket_id}")
    assert ticket["subject"] == subject
    assert ticket["channel"] == "web"
    assert ticket["type"] == "request"

    page.click("#private-link")
    page.wait_for_url(re.compile(rf"/t/{number}/"))
    expect(page.locator("#ticket-subject")).to_have_text(subject)
    expect(page.locator("#ticket-status")).to_be_visible()
    expect(page.locator("#thread")).to_contain_text("上海云帆科技有限公司")
    expect(page.locator("#thread")).to_contain_text("发票.pdf")

    page.fill("#reply-body", "补充：税号是 91310000MA1FL0000X。")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/t/{number}/[^#]+#reply$"))
    expect(page.locator("#thread")).to_contain_text("91310000MA1FL0000X")
    screenshot(page, "portal-ticket-link")

    messages = e2e.api("GET", f"/tickets/{ticket_id}/messages")
    items = messages["items"] if isinstance(messages, dict) else messages
    assert [m["kind"] for m in items] == ["customer_message", "customer_message"]


def test_agent_opens_a_ticket_for_a_caller_found_by_search(
    page: Page,
    e2e: E2EServer,
    sign_in: Callable[[Page, Login], None],
    screenshot: Callable[[Page, str], Path],
) -> None:
    sign_in(page, e2e.agent)
    page.click("#new-ticket-button")
    page.wait_for_url(re.compile(r"/agent/tickets/new$"))
    page.fill("#customer-query", "wang.fang")
    choice = page.locator("#customer-results input[name=customer_id]").first
    expect(choice).to_be_visible()
    expect(page.locator("#customer-results")).to_contain_text("王芳")
    choice.check()
    page.select_option("#channel", "phone")
    page.select_option("#type", "fault")
    page.select_option("#priority", "P2")
    page.fill("#subject", "电话报修：会议室投影仪不亮")
    page.fill("#description", "客户来电，三楼会议室投影仪无法开机。")
    page.fill("#tags", "投影仪, meeting-room")
    screenshot(page, "agent-new-ticket")
    page.click("#new-ticket-form button[type=submit]")
    page.wait_for_url(re.compile(r"/agent/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    ticket = e2e.api("GET", f"/tickets/{ticket_id}")
    assert ticket["subject"] == "电话报修：会议室投影仪不亮"
    assert ticket["channel"] == "phone"
    assert ticket["priority"] == "P2"
    assert ticket["tags"] == ["投影仪", "meeting-room"]
    assert ticket["requester_id"] == e2e.api("GET", f"/tickets/{e2e.ticket_ids[0]}")["requester_id"]
