"""Findings of the web review (security, accessibility, translations), one test each."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from closeloop.accounts import service as accounts
from closeloop.accounts.models import Agent, TeamMembership
from closeloop.db.session import UnitOfWork
from closeloop.kit import i18n
from closeloop.web import templating
from tests.builders import make_customer, make_team, make_ticket
from tests.conftest import START
from tests.web.admin_world import english
from tests.web.conftest import PASSWORD, SignIn, login

CSS = Path(templating.TEMPLATE_DIR).parent / "static" / "css" / "app.css"


def _english_agent(client: TestClient, uow: UnitOfWork, agent: Agent, signed_in: SignIn) -> None:
    english(uow, agent)
    uow.commit()
    client.headers["X-CSRF-Token"] = signed_in(client, agent)


# --- security ------------------------------------------------------------------------------


def test_json_in_htmx_attributes_cannot_be_broken_out_of(
    agent_client: TestClient,
) -> None:
    # /agent/tickets/new?customer_id=... went into hx-vals as raw text inside a JSON string:
    # a link could add keys (or break the JSON) of the search's request.
    sneaky = '1", "q": "injected'
    page = agent_client.get("/agent/tickets/new", params={"customer_id": sneaky}).text
    found = re.search(r"hx-vals='([^']*)'", page)
    assert found is not None
    values = json.loads(html.unescape(found.group(1)))
    assert values == {"selected": ""}
    body = re.search(r"<body[^>]*hx-headers='([^']*)'", page, re.S)
    assert body is not None
    headers = json.loads(html.unescape(body.group(1)))
    assert list(headers) == ["X-CSRF-Token"]


def test_signing_in_starts_a_new_session_and_sets_safe_cookie_flags(
    client: TestClient, web_agent: Agent
) -> None:
    client.cookies.set("closeloop_session", "planted-by-someone-else")
    answer = login(client, web_agent.email, PASSWORD, next="//evil.example/agent")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/agent"
    cookie = answer.headers["set-cookie"]
    assert "closeloop_session=" in cookie
    assert "planted-by-someone-else" not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Max-Age" not in cookie  # without "remember me": a browser-session cookie


# --- accessibility -------------------------------------------------------------------------


def test_sorted_column_header_carries_aria_sort(agent_client: TestClient) -> None:
    page = agent_client.get("/agent/tickets", params={"sort": "priority"}).text
    header = re.search(r'<th class="col-priority"[^>]*>', page)
    assert header is not None
    assert 'aria-sort="ascending"' in header.group(0)
    assert not re.search(r"<a [^>]*aria-sort", page), "aria-sort belongs on the header cell"


def test_selection_count_is_translated(agent_client: TestClient) -> None:
    page = agent_client.get("/agent/tickets").text
    assert "data-t-selected=" in page
    assert " ✓" not in (Path(CSS).parent.parent / "js" / "ticket-list.js").read_text()


def test_account_menu_is_not_an_aria_menu(agent_client: TestClient) -> None:
    # role="menu" promises arrow-key navigation the disclosure does not have.
    page = agent_client.get("/account/preferences").text
    assert 'role="menu"' not in page
    assert 'role="menuitem"' not in page


def test_password_errors_are_tied_to_their_fields(
    client: TestClient, uow: UnitOfWork, web_agent: Agent, signed_in: SignIn
) -> None:
    _english_agent(client, uow, web_agent, signed_in)
    answer = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "confirm_password": "another long password",
        },
    )
    assert answer.status_code == 422
    field = re.search(r'<input id="confirm_password"[^>]*>', answer.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="confirm_password-error"' in field.group(0)
    assert 'id="confirm_password-error"' in answer.text
    other = re.search(r'<input id="new_password"[^>]*>', answer.text)
    assert other is not None
    assert "aria-invalid" not in other.group(0)


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_badge_and_text_colours_meet_aa_contrast() -> None:
    css = CSS.read_text()
    colours = dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [
        (name.removesuffix("-fg"), colours[name], colours[name.removesuffix("-fg") + "-bg"])
        for name in colours
        if name.endswith("-fg")
    ]
    assert len(pairs) == 12, "status (6), priority (4) and SLA (2) colours"
    for surface in ("bg", "surface"):
        for text in ("text", "muted", "accent", "danger"):
            pairs.append((f"{text} on {surface}", colours[text], colours[surface]))
    # The current row of the list (#e8eefb) under muted and link text.
    pairs += [("muted on current row", colours["muted"], "#e8eefb")]
    pairs += [("link on current row", colours["accent"], "#e8eefb")]
    too_low = {name: round(contrast(fg, bg), 2) for name, fg, bg in pairs if contrast(fg, bg) < 4.5}
    assert not too_low, f"below 4.5:1 (WCAG AA): {too_low}"


def test_focus_ring_is_visible_against_the_page() -> None:
    # WCAG 2.2 (1.4.11, 2.4.13): a focus indicator needs 3:1 against what surrounds it.
    colours = dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))
    for surface in ("bg", "surface"):
        assert contrast(colours["focus"], colours[surface]) >= 3, surface


# --- translations --------------------------------------------------------------------------


def test_form_validation_errors_are_told_in_the_visitors_language(
    client: TestClient, uow: UnitOfWork, web_agent: Agent, signed_in: SignIn
) -> None:
    team = make_team(uow)
    uow.session.add(TeamMembership(team_id=team.id, agent_id=web_agent.id, created_at=START))
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    _english_agent(client, uow, web_agent, signed_in)
    answer = client.post(f"/agent/tickets/{ticket.id}/status", data={})
    assert answer.status_code == 422
    assert "This field is required." in answer.text
    assert "Field required" not in answer.text  # pydantic's English


def test_saved_view_name_error_is_in_the_visitors_language(
    agent_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The message was rendered in the default locale (English) whatever the agent's.
    message = "Give the view a name of up to 80 characters."
    monkeypatch.setitem(i18n.catalogue("zh_CN"), message, "视图名称最多 80 个字符。")
    answer = agent_client.post("/agent/saved-views", data={"name": ""})
    assert answer.status_code == 422
    assert "视图名称最多 80 个字符。" in answer.text
    assert message not in answer.text


def test_signing_in_over_another_session_ends_that_session(
    client: TestClient, uow: UnitOfWork, web_agent: Agent, signed_in: SignIn
) -> None:
    # A shared computer: the customer (or a colleague) before was still signed in. Their
    # session must end, not only lose its cookie in this browser.
    customer = make_customer(uow)
    csrf = signed_in(client, customer)
    earlier = client.cookies["closeloop_session"]
    answer = client.post(
        "/login",
        data={"csrf_token": csrf, "email": web_agent.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert accounts.principal_for_login_session(uow, earlier) is None
    assert earlier not in answer.headers["set-cookie"]
