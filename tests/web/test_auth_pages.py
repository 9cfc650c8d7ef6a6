"""Signing in and out, CSRF, throttling, the own-account pages, error pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from closeloop.accounts import service as accounts
from closeloop.accounts import throttle
from closeloop.accounts.models import Agent, LoginSession, RateLimitBucket
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.i18n import translate
from closeloop.web.auth import _LOCKED
from closeloop.web.session import LOCALE_COOKIE, SESSION_COOKIE
from tests.builders import make_customer, principal_of
from tests.web.conftest import (
    PASSWORD,
    SignIn,
    count_statements,
    form_csrf,
    login,
    page_csrf,
    selects,
)

FAILED_ZH = "邮箱或密码错误，或账号已被停用。"
FAILED_EN = "The email or password is wrong, or the account is disabled."
CSRF_ZH = "表单已过期或并非来自 closeloop。请刷新页面后重试。"
CSRF_EN = "The form expired or did not come from closeloop. Reload the page and try again."


def _stored_agent(uow: UnitOfWork, agent: Agent) -> Agent:
    uow.session.expire_all()
    found = uow.session.get(Agent, agent.id)
    assert found is not None
    return found


def _sessions_of(uow: UnitOfWork, agent: Agent) -> list[LoginSession]:
    uow.session.expire_all()
    return list(uow.session.scalars(select(LoginSession).where(LoginSession.agent_id == agent.id)))


# --- home and sign-in -----------------------------------------------------------------------


def test_home_sends_visitors_to_sign_in_and_agents_to_the_workspace(
    client: TestClient, web_agent: Agent, signed_in: SignIn
) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    signed_in(client, web_agent)
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/agent")


def test_api_docs_stay_reachable(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text


def test_sign_in_page_is_in_the_organisation_language_with_a_csrf_cookie(
    client: TestClient, web_agent: Agent
) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert 'name="viewport"' in response.text
    assert response.cookies.get("closeloop_csrf") == form_csrf(response.text)
    assert "HttpOnly" in response.headers["set-cookie"]


def test_sign_in_succeeds_and_opens_the_workspace(
    client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    response = login(client, web_agent.email.upper(), PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent"
    assert client.get("/account/preferences").status_code == 200
    assert len(_sessions_of(uow, web_agent)) == 1


@pytest.mark.parametrize(
    ("locale_cookie", "expected"), [(None, FAILED_ZH), ("en", FAILED_EN)], ids=["zh", "en"]
)
def test_wrong_password_is_refused_with_a_translated_message(
    client: TestClient, web_agent: Agent, locale_cookie: str | None, expected: str
) -> None:
    if locale_cookie:
        client.cookies.set(LOCALE_COOKIE, locale_cookie)
    response = login(client, web_agent.email, "wrong password")
    assert response.status_code == 401
    assert expected in response.text
    assert SESSION_COOKIE not in response.cookies
    assert f'value="{web_agent.email}"' in response.text  # the email stays filled in


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, web_agent: Agent
) -> None:
    unknown = login(client, "nobody@example.com", "wrong password")
    assert unknown.status_code == 401
    assert FAILED_ZH in unknown.text


def test_a_login_form_without_its_csrf_token_is_refused(
    client: TestClient, web_agent: Agent
) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": web_agent.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert CSRF_ZH in response.text
    assert SESSION_COOKIE not in response.cookies


# --- throttling ------------------------------------------------------------------------------


def test_five_failures_lock_the_account_even_for_the_right_password(
    client: TestClient, web_agent: Agent, clock: FrozenClock, settings: Settings
) -> None:
    locked = _LOCKED.render("zh_CN", minutes=settings.login_throttle_minutes)
    answers = [login(client, web_agent.email, f"wrong {n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert locked in answers[-1].text

    right = login(client, web_agent.email, PASSWORD)
    assert right.status_code == 429
    assert locked in right.text
    assert SESSION_COOKIE not in right.cookies

    clock.advance(timedelta(minutes=settings.login_throttle_minutes))
    assert login(client, web_agent.email, PASSWORD).status_code == 303


def test_a_locked_unknown_email_answers_like_a_locked_account(
    client: TestClient, web_agent: Agent, settings: Settings
) -> None:
    locked = _LOCKED.render("zh_CN", minutes=settings.login_throttle_minutes)
    answers = [login(client, "nobody@example.com", "guess") for _attempt in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert locked in answers[-1].text


def test_a_successful_sign_in_forgets_earlier_failures(
    client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    for _attempt in range(4):
        login(client, web_agent.email, "wrong")
    assert login(client, web_agent.email, PASSWORD).status_code == 303
    client.cookies.clear()
    assert login(client, web_agent.email, "wrong").status_code == 401
    key = throttle.account_key("login:account", web_agent.email)
    uow.session.expire_all()
    assert uow.session.scalar(select(RateLimitBucket.count).where(RateLimitBucket.key == key)) == 1


def test_failures_from_one_address_lock_that_address(
    app: FastAPI, client: TestClient, web_agent: Agent, settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"login_attempts_per_address": 3})
    answers = [login(client, f"guess{n}@example.com", "guess").status_code for n in range(3)]
    assert answers == [401, 401, 429]
    assert login(client, web_agent.email, PASSWORD).status_code == 429


# --- session cookies --------------------------------------------------------------------------


def test_without_remember_me_the_cookie_ends_with_the_browser(
    client: TestClient, web_agent: Agent, uow: UnitOfWork, clock: FrozenClock
) -> None:
    response = login(client, web_agent.email, PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age" not in cookie
    assert "expires" not in cookie.lower()
    assert "Secure" not in cookie
    (stored,) = _sessions_of(uow, web_agent)
    assert stored.expires_at == clock.now() + timedelta(hours=12)


def test_remember_me_keeps_the_session_for_the_configured_days(
    app: FastAPI, web_agent: Agent, uow: UnitOfWork, clock: FrozenClock, settings: Settings
) -> None:
    with TestClient(app, base_url="https://testserver") as secure_client:
        response = login(secure_client, web_agent.email, PASSWORD, remember=True)
    cookie = response.headers["set-cookie"]
    assert f"Max-Age={settings.session_days * 86400}" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    (stored,) = _sessions_of(uow, web_agent)
    assert stored.expires_at == clock.now() + timedelta(days=settings.session_days)


# --- next ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/account/password", "/account/password"),
        ("https://evil.example/phish", "/agent"),
        ("//evil.example/phish", "/agent"),
        ("/\\evil.example", "/agent"),
    ],
)
def test_sign_in_continues_only_to_local_paths(
    client: TestClient, web_agent: Agent, next_value: str, expected: str
) -> None:
    response = login(client, web_agent.email, PASSWORD, next=next_value)
    assert response.headers["location"] == expected


def test_the_sign_in_form_keeps_a_safe_next(client: TestClient, web_agent: Agent) -> None:
    assert (
        'name="next" value="/agent/tickets?q=vpn"'
        in client.get("/login", params={"next": "/agent/tickets?q=vpn"}).text
    )
    assert (
        'name="next" value="/agent"'
        in client.get("/login", params={"next": "https://evil.example/"}).text
    )


# --- who may see agent pages --------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/account/preferences?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fpreferences%3Ftab%3D1"


def test_htmx_requests_of_anonymous_visitors_redirect_the_whole_page(client: TestClient) -> None:
    response = client.get(
        "/account/password",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/agent/tickets?q=x"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Fagent%2Ftickets%3Fq%3Dx"


@pytest.mark.parametrize("path", ["/account/preferences", "/account/password", "/agent"])
def test_customers_get_not_found_on_agent_pages(
    client: TestClient, uow: UnitOfWork, organisation: object, signed_in: SignIn, path: str
) -> None:
    customer = make_customer(uow)
    uow.commit()
    signed_in(client, customer)
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_a_signed_in_agent_page_costs_three_selects_for_the_session(
    agent_client: TestClient, engine: object
) -> None:
    with count_statements(engine) as executed:  # type: ignore[arg-type]
        response = agent_client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    # The session by its hash, the agent, their team memberships and leads (one UNION).
    assert len(selects(executed)) == 3, executed


def test_the_sign_in_page_costs_one_select(
    client: TestClient, organisation: object, engine: object
) -> None:
    with count_statements(engine) as executed:  # type: ignore[arg-type]
        assert client.get("/login").status_code == 200
    assert len(selects(executed)) == 1, executed  # the organisation's default language


# --- sign out ----------------------------------------------------------------------------------


def test_sign_out_needs_the_csrf_token(
    client: TestClient, web_agent: Agent, signed_in: SignIn, uow: UnitOfWork
) -> None:
    csrf = signed_in(client, web_agent)
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert CSRF_ZH in refused.text
    assert len(_sessions_of(uow, web_agent)) == 1

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert _sessions_of(uow, web_agent) == []
    assert client.get("/account/preferences", follow_redirects=False).status_code == 303


def test_sign_out_shows_a_message_once(
    client: TestClient, web_agent: Agent, signed_in: SignIn
) -> None:
    csrf = signed_in(client, web_agent)
    client.cookies.set(LOCALE_COOKIE, "en")
    page = client.post("/logout", data={"csrf_token": csrf})
    assert (
        "You have signed out." in page.text
        or translate("You have signed out.", "zh_CN") in page.text
    )
    assert 'class="flash flash-info"' in page.text
    assert 'class="flash flash-info"' not in client.get("/login").text


# --- CSRF on forms -----------------------------------------------------------------------------


def test_a_form_post_without_the_token_changes_nothing(
    client: TestClient, web_agent: Agent, signed_in: SignIn, uow: UnitOfWork
) -> None:
    signed_in(client, web_agent)
    response = client.post(
        "/account/preferences",
        data={"locale": "en", "time_zone": "Europe/Berlin"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert CSRF_ZH in response.text
    stored = _stored_agent(uow, web_agent)
    assert (stored.locale, stored.time_zone) == ("zh_CN", "Asia/Shanghai")


def test_a_token_of_another_session_is_refused(
    client: TestClient, web_agent: Agent, signed_in: SignIn, uow: UnitOfWork
) -> None:
    other_csrf = signed_in(client, web_agent)
    signed_in(client, web_agent)
    response = client.post(
        "/account/locale", data={"locale": "en", "csrf_token": other_csrf}, follow_redirects=False
    )
    assert response.status_code == 403
    assert _stored_agent(uow, web_agent).locale == "zh_CN"


# --- language ----------------------------------------------------------------------------------


def test_anonymous_language_switch_is_kept_in_a_cookie(
    client: TestClient, organisation: object
) -> None:
    token = form_csrf(client.get("/login").text)
    response = client.post(
        "/account/locale",
        data={"locale": "en", "next": "/login?next=/agent", "csrf_token": token},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/agent")
    assert response.cookies.get(LOCALE_COOKIE) == "en"
    assert '<html lang="en">' in client.get("/login").text


def test_the_language_switch_is_stored_on_the_agent(
    agent_client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    response = agent_client.post(
        "/account/locale",
        data={"locale": "en", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert _stored_agent(uow, web_agent).locale == "en"
    assert '<html lang="en">' in agent_client.get("/account/preferences").text


# --- own account -------------------------------------------------------------------------------


def test_preferences_change_language_and_time_zone(
    agent_client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    # The frozen clock says 2026-11-25 02:00 UTC.
    before = agent_client.get("/account/preferences").text
    assert "2026年11月25日 10:00" in before  # Asia/Shanghai
    response = agent_client.post(
        "/account/preferences",
        data={"locale": "en", "time_zone": "Europe/Berlin"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account/preferences")
    after = agent_client.get("/account/preferences").text
    assert "25 Nov 2026, 03:00" in after  # Europe/Berlin, in English
    assert "Your preferences were saved." in after
    assert '<option value="Europe/Berlin" selected>' in after
    stored = _stored_agent(uow, web_agent)
    assert (stored.locale, stored.time_zone) == ("en", "Europe/Berlin")


def test_an_unknown_time_zone_is_refused_with_the_form_again(
    agent_client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    response = agent_client.post(
        "/account/preferences", data={"locale": "en", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert "Mars/Olympus" in response.text
    assert _stored_agent(uow, web_agent).time_zone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field_message"),
    [
        ("wrong password", "a new long password", "a new long password", "The current password"),
        (PASSWORD, "a new long password", "another password", "do not match"),
        (PASSWORD, "short", "short", "at least 8"),
    ],
    ids=["wrong_current", "mismatch", "too_short"],
)
def test_password_change_refusals(
    agent_client: TestClient,
    web_agent: Agent,
    uow: UnitOfWork,
    current: str,
    new: str,
    confirm: str,
    field_message: str,
) -> None:
    agent_client.cookies.set(LOCALE_COOKIE, "en")
    accounts_agent = _stored_agent(uow, web_agent)
    accounts_agent.locale = "en"
    uow.commit()
    old_hash = accounts_agent.password_hash
    response = agent_client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm_password": confirm},
    )
    assert response.status_code == 422
    assert field_message in response.text
    assert _stored_agent(uow, web_agent).password_hash == old_hash


def test_password_change_ends_the_other_sessions(
    client: TestClient, web_agent: Agent, uow: UnitOfWork, signed_in: SignIn
) -> None:
    other_cookie, _other_csrf = accounts.start_login_session(
        uow, principal=principal_of(uow, web_agent), lifetime=timedelta(hours=1)
    )
    uow.commit()
    csrf = signed_in(client, web_agent)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "confirm_password": "a new long password",
        },
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/account/password")
    assert accounts.principal_for_login_session(uow, other_cookie) is None
    assert len(_sessions_of(uow, web_agent)) == 1  # this one stays signed in
    assert client.get("/account/password").status_code == 200
    client.cookies.clear()
    assert login(client, web_agent.email, PASSWORD).status_code == 401
    assert login(client, web_agent.email, "a new long password").status_code == 303


# --- error pages -------------------------------------------------------------------------------


def test_unknown_pages_are_readable_and_api_paths_keep_problem_json(
    client: TestClient, organisation: object
) -> None:
    client.cookies.set(LOCALE_COOKIE, "en")
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "This page does not exist" in page.text
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_htmx_errors_are_swapped_into_the_flash_region(agent_client: TestClient) -> None:
    response = agent_client.post(
        "/account/locale",
        headers={"HX-Request": "true", "X-CSRF-Token": "forged"},
        data={"locale": "en"},
    )
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#flash"
    assert "<html" not in response.text


def test_pages_carry_the_csrf_token_for_htmx(agent_client: TestClient) -> None:
    html = agent_client.get("/account/preferences").text
    assert page_csrf(html) == agent_client.headers["X-CSRF-Token"]
    assert 'aria-live="polite"' in html
    assert 'href="#main"' in html


def test_htmx_form_posts_redirect_the_whole_page(
    agent_client: TestClient, web_agent: Agent, uow: UnitOfWork
) -> None:
    response = agent_client.post(
        "/account/locale",
        data={"locale": "en", "next": "/account/password"},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/account/password"
    assert "location" not in response.headers
    assert _stored_agent(uow, web_agent).locale == "en"
