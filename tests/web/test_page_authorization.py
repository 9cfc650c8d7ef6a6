"""Who may see which page: every route of the web router, called by every role.

The rules (issue 6, docs/subsystems/web.md): an anonymous visitor of an agent or admin page is
sent to the sign-in page (303 to ``/login?next=...``); a signed-in visitor who may not see a
page (a customer on any agent page, an agent on an admin page, an agent of another team on a
ticket of team A) gets the 404 page, exactly like a page that does not exist; public pages
(sign-in, the web form, the customer's private link) answer everyone.

Each case runs in a SAVEPOINT of the world the API's authorisation matrix uses
(``tests/api/authorization_world.py``, plus a cookie session per role, a saved view and two
canned responses), rolled back afterwards. Posts carry the caller's CSRF token and an empty
form: a refused role must change nothing; an allowed one passes the gate (whatever the form
then says about the empty fields). ``test_every_post_needs_its_csrf_token`` posts without a
token as the most powerful allowed caller: 403, and nothing changes.

A new page route fails ``test_every_web_route_is_in_the_table`` until it has a row in
``TABLE``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, sessionmaker

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import CsrfFailed
from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.kit.i18n import SUPPORTED_LOCALES
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets.customer_links import customer_link_path
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.domain import MacroScope
from closeloop.tickets.macros.schemas import MacroCreate
from closeloop.tickets.models import Message
from closeloop.tickets.saved_views import service as saved_views
from closeloop.tickets.saved_views.schemas import SavedViewCreate
from closeloop.web import router as web_router
from closeloop.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests.api.authorization_world import AGENTS, CUSTOMERS, Caller, World, build_world, fingerprint
from tests.conftest import BACKENDS, START

SECRET_KEY = "test-secret-key-that-is-long-enough"
CASE_TIME = START + timedelta(minutes=5)
# The pre-session CSRF token of anonymous visitors (the double-submit cookie).
ANONYMOUS_CSRF = "anonymous-csrf-token-0123456789"
MISSING = 999_999


class Gate(enum.Enum):
    """What a caller meets at a page's door."""

    login = "303 to /login"  # anonymous: sent to sign in
    hidden = "404"  # signed in, may not see it
    allowed = "allowed"  # passes the gate (POST: any answer but a refusal or a crash)


Expect = Mapping[Caller, Gate | int]


def _roles(
    *, anonymous: Gate | int, customers: Gate | int, agents: Gate | int, **overrides: Gate | int
) -> dict[Caller, Gate | int]:
    expect: dict[Caller, Gate | int] = {Caller.anonymous: anonymous}
    expect.update(dict.fromkeys(CUSTOMERS, customers))
    expect.update(dict.fromkeys(AGENTS, agents))
    expect.update({Caller(name): value for name, value in overrides.items()})
    return expect


def public(ok: Gate | int = 200, **overrides: Gate | int) -> Expect:
    return _roles(anonymous=ok, customers=ok, agents=ok, **overrides)


def agent_page(ok: Gate | int = 200, **overrides: Gate | int) -> Expect:
    """Any agent; customers get the 404 page, anonymous visitors the sign-in page."""
    return _roles(anonymous=Gate.login, customers=Gate.hidden, agents=ok, **overrides)


def on_ticket_x(ok: Gate | int = 200, **overrides: Gate | int) -> Expect:
    """Ticket X of team A: hidden from the agent of team B too."""
    return agent_page(ok, agent_other_team=Gate.hidden, **overrides)


def admin_page(ok: Gate | int = 200, **overrides: Gate | int) -> Expect:
    return _roles(
        anonymous=Gate.login, customers=Gate.hidden, agents=Gate.hidden, admin=ok, **overrides
    )


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: Expect
    # Path parameters other than the defaults of ``Table.ids``.
    ids: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    # A form that passes validation, where the handler (not a dependency) checks who may act.
    data: Mapping[str, str] = field(default_factory=dict)
    # Agents' answer not asked here (a stream that never ends): why.
    skip_allowed: str = ""

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path


A = Gate.allowed
H = Gate.hidden

TABLE: list[Row] = [
    # --- signing in, the account --------------------------------------------------------
    Row("GET", "/", public(303)),
    # Signed-in agents are sent on to the workspace.
    Row("GET", "/login", public(200, **dict.fromkeys(AGENTS, 303))),
    Row("POST", "/login", public(A)),
    Row("POST", "/logout", public(A)),
    Row("POST", "/account/locale", public(A)),
    Row("GET", "/account", agent_page(303)),
    Row("GET", "/account/password", agent_page()),
    Row("POST", "/account/password", agent_page(A)),
    Row("GET", "/account/preferences", agent_page()),
    Row("POST", "/account/preferences", agent_page(A)),
    # Not a page: the stream answers 401 to anyone but an agent (tests/web/test_live_stream.py
    # follows an agent's stream through a real server).
    Row(
        "GET",
        "/live/stream",
        _roles(anonymous=401, customers=401, agents=A),
        query={"topic": "tickets"},
        skip_allowed="an event stream does not end under TestClient",
    ),
    # --- views and the ticket list ------------------------------------------------------
    Row("GET", "/agent", agent_page(303)),
    Row("GET", "/agent/views/{key}", agent_page(), ids={"key": "mine"}),
    Row(
        "GET",
        "/agent/views/{key}",
        agent_page(H, supervisor=200, admin=200),
        ids={"key": "all_open"},
    ),
    # The saved view of the agent, shared with team A: its team (and admins) open it.
    Row("GET", "/agent/views/{key}", on_ticket_x(supervisor=H), ids={"key": "{view_id}"}),
    Row("GET", "/agent/tickets", agent_page()),
    Row("GET", "/agent/nav/counts", agent_page()),
    Row("POST", "/agent/tickets/bulk", agent_page(A)),
    Row("POST", "/agent/saved-views", agent_page(A)),
    # Only its owner (the agent) and admins change it; the lead sees it but may not (403).
    Row(
        "POST",
        "/agent/saved-views/{view_id}",
        on_ticket_x(A, supervisor=H, lead=403),
        data={"name": "Renamed"},
    ),
    Row("POST", "/agent/saved-views/{view_id}/delete", on_ticket_x(A, supervisor=H, lead=403)),
    # --- a new ticket -------------------------------------------------------------------
    Row("GET", "/agent/tickets/new", agent_page()),
    Row("GET", "/agent/tickets/new/fields", agent_page()),
    Row("POST", "/agent/tickets/new", agent_page(A)),
    Row("GET", "/agent/customers/search", agent_page(), query={"q": "a"}),
    # --- the ticket page (web/agent/ticket_page) ----------------------------------------
    Row("GET", "/agent/tickets/{ticket_id:int}", on_ticket_x()),
    Row("GET", "/agent/tickets/{ticket_id:int}/thread", on_ticket_x()),
    Row("GET", "/agent/tickets/{ticket_id:int}/fields", on_ticket_x()),
    Row("GET", "/agent/tickets/{ticket_id:int}/presence", on_ticket_x()),
    Row("POST", "/agent/tickets/{ticket_id:int}/messages", on_ticket_x(A)),
    # The world's messages did not come by email: no original for anyone.
    Row("GET", "/agent/tickets/{ticket_id:int}/messages/{message_id}/original", on_ticket_x(H)),
    Row("POST", "/agent/tickets/{ticket_id:int}/fields", on_ticket_x(A)),
    Row(
        "POST",
        "/agent/tickets/{ticket_id:int}/status",
        on_ticket_x(A),
        data={"status": "in_progress"},
    ),
    Row("POST", "/agent/tickets/{ticket_id:int}/assign-me", on_ticket_x(A)),
    Row(
        "POST",
        "/agent/tickets/{ticket_id:int}/links",
        on_ticket_x(A),
        data={"number": "{ticket_y_number}"},
    ),
    Row("POST", "/agent/tickets/{ticket_id:int}/links/{link_id}/delete", on_ticket_x(A)),
    Row(
        "POST",
        "/agent/tickets/{ticket_id:int}/merge",
        on_ticket_x(A),
        data={"number": "{ticket_y_number}", "confirm": "yes"},
    ),
    Row("POST", "/agent/tickets/{ticket_id:int}/followers", on_ticket_x(A)),
    Row("POST", "/agent/tickets/{ticket_id:int}/followers/{follower_id}/delete", on_ticket_x(A)),
    # Team A's canned response: for team A (supervisors and admins are in no team).
    Row(
        "GET",
        "/agent/tickets/{ticket_id:int}/macros/insert",
        on_ticket_x(A, supervisor=H, admin=H),
        query={"macro_choice": "{macro_id}"},
    ),
    Row(
        "POST",
        "/agent/tickets/{ticket_id:int}/macros/apply",
        on_ticket_x(A, supervisor=H, admin=H),
        data={"macro_choice": "{macro_id}"},
    ),
    Row("GET", "/agent/canned-responses", agent_page()),
    Row("POST", "/agent/canned-responses", agent_page(A)),
    # The agent's own canned response: nobody else's to change.
    Row(
        "POST",
        "/agent/canned-responses/{macro_id}",
        agent_page(H, agent=A),
        ids={"macro_id": "{personal_macro}"},
        data={"title": "Renamed"},
    ),
    Row(
        "POST",
        "/agent/canned-responses/{macro_id}/delete",
        agent_page(H, agent=A),
        ids={"macro_id": "{personal_macro}"},
    ),
    # --- customers: the web form and the private link -----------------------------------
    Row("GET", "/forms/new", public()),
    Row("GET", "/forms/new/fields", public()),
    Row("POST", "/forms/new", public(A)),
    Row("GET", "/forms/done/{number}/{token}", public()),
    Row("GET", "/forms/done/{number}/{token}", public(H), ids={"token": "wrong"}),
    Row("GET", "/forms/received", public()),
    Row("GET", "/t/{number}/{token}", public()),
    Row("GET", "/t/{number}/{token}", public(H), ids={"token": "wrong"}),
    Row("GET", "/t/{number}/{token}/thread", public()),
    Row("POST", "/t/{number}/{token}/reply", public(A)),
    Row("POST", "/t/{number}/{token}/reply", public(H), ids={"token": "wrong"}),
    Row("POST", "/t/{number}/{token}/confirm", public(A)),
    Row("POST", "/t/{number}/{token}/reopen", public(A)),
    Row("GET", "/t/{number}/{token}/attachments/{attachment_id}", public()),
    # An internal note's file is not the customer's, whatever the link.
    Row(
        "GET",
        "/t/{number}/{token}/attachments/{attachment_id}",
        public(H),
        ids={"attachment_id": "{note_attachment}"},
    ),
    # --- administration (web/admin): admins; team leads for canned responses -----------
    Row("GET", "/admin", admin_page(lead=200)),
    Row("GET", "/admin/agents", admin_page()),
    Row("GET", "/admin/agents/new", admin_page()),
    Row("POST", "/admin/agents", admin_page(A)),
    Row("GET", "/admin/agents/{agent_id:int}", admin_page()),
    Row("POST", "/admin/agents/{agent_id:int}", admin_page(A)),
    Row("POST", "/admin/agents/{agent_id:int}/password", admin_page(A)),
    Row("POST", "/admin/agents/{agent_id:int}/deactivate", admin_page(A)),
    Row("GET", "/admin/teams", admin_page()),
    Row("POST", "/admin/teams", admin_page(A)),
    Row("GET", "/admin/teams/{team_id:int}", admin_page()),
    Row("POST", "/admin/teams/{team_id:int}", admin_page(A)),
    Row("POST", "/admin/teams/{team_id:int}/deactivate", admin_page(A)),
    Row("GET", "/admin/skills", admin_page()),
    Row("POST", "/admin/skills", admin_page(A)),
    Row("POST", "/admin/skills/{skill_id:int}", admin_page(A)),
    Row("POST", "/admin/skills/{skill_id:int}/delete", admin_page(A)),
    Row("GET", "/admin/api-tokens", admin_page()),
    Row("POST", "/admin/api-tokens", admin_page(A)),
    Row("POST", "/admin/api-tokens/{token_id:int}/revoke", admin_page(A)),
    Row("GET", "/admin/custom-fields", admin_page()),
    Row("POST", "/admin/custom-fields", admin_page(A)),
    Row("GET", "/admin/custom-fields/{field_id:int}", admin_page()),
    Row("POST", "/admin/custom-fields/{field_id:int}", admin_page(A)),
    Row("POST", "/admin/custom-fields/{field_id:int}/deactivate", admin_page(A)),
    Row("GET", "/admin/canned-responses", admin_page(lead=200)),
    Row("POST", "/admin/canned-responses", admin_page(A, lead=A)),
    # Team A's canned response: its lead and admins.
    Row("GET", "/admin/canned-responses/{macro_id:int}", admin_page(lead=200)),
    Row("POST", "/admin/canned-responses/{macro_id:int}", admin_page(A, lead=A)),
    Row("POST", "/admin/canned-responses/{macro_id:int}/delete", admin_page(A, lead=A)),
    Row("GET", "/admin/sla", admin_page()),
    Row("POST", "/admin/sla/calendars", admin_page(A)),
    Row("GET", "/admin/sla/calendars/{calendar_id:int}", admin_page()),
    Row("POST", "/admin/sla/calendars/{calendar_id:int}", admin_page(A)),
    Row("POST", "/admin/sla/calendars/{calendar_id:int}/days", admin_page(A)),
    Row(
        "POST",
        "/admin/sla/calendars/{calendar_id:int}/days/{day_id:int}/delete",
        admin_page(A),
        ids={"calendar_id": "{spare_calendar}"},
    ),
    Row("POST", "/admin/sla/calendars/{calendar_id:int}/holidays", admin_page(A)),
    Row(
        "POST",
        "/admin/sla/calendars/{calendar_id:int}/delete",
        admin_page(A),
        ids={"calendar_id": "{spare_calendar}"},
    ),
    Row("POST", "/admin/sla/policies", admin_page(A)),
    Row("GET", "/admin/sla/policies/{policy_id:int}", admin_page()),
    Row("POST", "/admin/sla/policies/{policy_id:int}", admin_page(A)),
    Row("POST", "/admin/sla/policies/{policy_id:int}/toggle", admin_page(A)),
    Row("POST", "/admin/sla/policies/{policy_id:int}/move", admin_page(A)),
    Row("POST", "/admin/sla/policies/{policy_id:int}/delete", admin_page(A)),
    Row("POST", "/admin/sla/policies/{policy_id:int}/steps", admin_page(A)),
    Row("POST", "/admin/sla/policies/{policy_id:int}/steps/{index:int}", admin_page(A)),
    Row("GET", "/admin/routing", admin_page()),
    Row("POST", "/admin/routing/teams/{team_id:int}", admin_page(A)),
    Row("POST", "/admin/routing/settings", admin_page(A)),
    Row("POST", "/admin/routing/classifier/train", admin_page(A)),
    Row("GET", "/admin/routing/rules/new", admin_page()),
    Row("POST", "/admin/routing/rules", admin_page(A)),
    Row("GET", "/admin/routing/rules/{rule_id:int}", admin_page()),
    Row("POST", "/admin/routing/rules/{rule_id:int}", admin_page(A)),
    Row("POST", "/admin/routing/rules/{rule_id:int}/toggle", admin_page(A)),
    Row("POST", "/admin/routing/rules/{rule_id:int}/move", admin_page(A)),
    Row("POST", "/admin/routing/rules/{rule_id:int}/delete", admin_page(A)),
    Row("GET", "/admin/channels", admin_page()),
    Row("GET", "/admin/channels/mailboxes", admin_page()),
    Row("POST", "/admin/channels/mailboxes", admin_page(A)),
    Row("GET", "/admin/channels/mailboxes/{mailbox_id:int}", admin_page()),
    Row("POST", "/admin/channels/mailboxes/{mailbox_id:int}", admin_page(A)),
    Row("POST", "/admin/channels/mailboxes/{mailbox_id:int}/test", admin_page(A)),
    Row("POST", "/admin/channels/mailboxes/{mailbox_id:int}/delete", admin_page(A)),
    Row("GET", "/admin/channels/email-templates/{team_id:int}", admin_page()),
    Row("POST", "/admin/channels/email-templates/{team_id:int}", admin_page(A)),
    Row("GET", "/admin/channels/wechat", admin_page()),
    Row("POST", "/admin/channels/wechat", admin_page(A)),
    # The world has no WeChat account: the admin gets the 404 page as well.
    Row("GET", "/admin/channels/wechat/{account_id:int}", admin_page(H)),
    Row("POST", "/admin/channels/wechat/{account_id:int}", admin_page(H)),
    Row("POST", "/admin/channels/wechat/{account_id:int}/delete", admin_page(H)),
    Row("GET", "/admin/channels/webhooks", admin_page()),
    Row("POST", "/admin/channels/webhooks", admin_page(A)),
    Row("GET", "/admin/channels/webhooks/{source_id:int}", admin_page()),
    Row("POST", "/admin/channels/webhooks/{source_id:int}", admin_page(A)),
    Row("POST", "/admin/channels/webhooks/{source_id:int}/rotate", admin_page(A)),
    Row("POST", "/admin/channels/webhooks/{source_id:int}/delete", admin_page(A)),
    Row("GET", "/admin/channels/crm", admin_page()),
    Row("POST", "/admin/channels/crm", admin_page(A)),
    Row("POST", "/admin/channels/crm/test", admin_page(A)),
    Row("GET", "/admin/channels/quarantine", admin_page()),
    Row("POST", "/admin/channels/quarantine/{inbound_id:int}/release", admin_page(A)),
    Row("POST", "/admin/channels/quarantine/{inbound_id:int}/discard", admin_page(A)),
    Row("GET", "/admin/channels/quarantine/{inbound_id:int}/raw", admin_page()),
]


# --- the world -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The world, a cookie session per role, and the ids the rows' paths name."""

    world: World
    cookies: Mapping[Caller, str]
    csrf: Mapping[Caller, str]
    ids: Mapping[str, str]


def _build(uow: UnitOfWork, settings: Settings) -> Table:
    world = build_world(
        uow,
        attachments_dir=settings.attachments_dir,
        secret_key=settings.secret_key.get_secret_value(),
    )
    people: dict[Caller, Principal | None] = {
        Caller.customer_other: accounts.principal_for_customer_id(uow, world.stranger),
        Caller.customer_requester: accounts.principal_for_customer_id(uow, world.requester),
        Caller.customer_company_admin: accounts.principal_for_customer_id(uow, world.company_admin),
        Caller.agent_other_team: accounts.principal_for_agent_id(uow, world.agent_other),
        Caller.agent: accounts.principal_for_agent_id(uow, world.agent),
        Caller.lead: accounts.principal_for_agent_id(uow, world.lead),
        Caller.supervisor: accounts.principal_for_agent_id(uow, world.supervisor),
        Caller.admin: accounts.principal_for_agent_id(uow, world.admin),
    }
    cookies: dict[Caller, str] = {}
    csrf: dict[Caller, str] = {Caller.anonymous: ANONYMOUS_CSRF}
    for caller, principal in people.items():
        assert principal is not None, caller
        cookies[caller], csrf[caller] = accounts.start_login_session(
            uow, principal=principal, lifetime=timedelta(days=1)
        )
    agent, lead = people[Caller.agent], people[Caller.lead]
    assert agent is not None
    assert lead is not None
    view = saved_views.create_saved_view(
        uow,
        data=SavedViewCreate(name="Team A's VPN", team_id=world.team_a, filters={"tags": ["vpn"]}),
        actor=agent,
        via="test",
    )
    personal = macros.create_macro(
        uow, data=MacroCreate(title="Mine", body="Hello"), actor=agent, via="test"
    )
    team_macro = macros.create_macro(
        uow,
        data=MacroCreate(title="Team A", body="Hi", scope=MacroScope.team, team_id=world.team_a),
        actor=lead,
        via="test",
    )
    message_id = uow.session.scalar(
        select(Message.id).where(Message.ticket_id == world.ticket_x).order_by(Message.id)
    )
    link = customer_link_path(settings.secret_key.get_secret_value(), world.ticket_x)
    token = link.rsplit("/", 1)[1]
    uow.commit()
    ids = {
        **{name: str(value) for name, value in world.path_params().items()},
        "view_id": str(view.id),
        "personal_macro": str(personal.id),
        "macro_id": str(team_macro.id),
        "message_id": str(message_id),
        "number": format_ticket_number(world.ticket_x),
        "ticket_y_number": format_ticket_number(world.ticket_y),
        "token": token,
        "note_attachment": str(world.note_attachment),
        "spare_calendar": str(world.spare_calendar),
        "day_id": str(world.holiday),
        "index": "0",
        "account_id": str(MISSING),
        "source_id": str(world.webhook_source),
        "inbound_id": str(world.inbound),
        "mailbox_id": str(world.mailbox),
        "rule_id": str(world.rule),
        "calendar_id": str(world.calendar),
        "policy_id": str(world.policy),
    }
    return Table(world=world, cookies=cookies, csrf=csrf, ids=ids)


def url_of(row: Row, table: Table) -> str:
    ids = {name: value.format(**table.ids) for name, value in row.ids.items()}
    path = row.path.replace(":int}", "}")
    return path.format(**{**table.ids, **ids})


@pytest.fixture(scope="module", params=BACKENDS)
def table_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def table_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("pages") / "data",
        secret_key=SECRET_KEY,
        max_request_bytes=64 * 1024,
        max_attachment_bytes=256 * 1024,
    )


@pytest.fixture(scope="module")
def table_connection(
    table_backend: str, migrated_engines: dict[str, Engine]
) -> Iterator[Connection]:
    with migrated_engines[table_backend].connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture(scope="module")
def table(table_connection: Connection, table_settings: Settings) -> Table:
    with UnitOfWork(_factory(table_connection), bus=EventBus(), clock=FrozenClock(START)) as uow:
        return _build(uow, table_settings)


@pytest.fixture(scope="module")
def world_state(table: Table, table_connection: Connection) -> dict[str, object]:
    return fingerprint(table_connection)


@pytest.fixture(scope="module")
def table_app(
    table_backend: str, table_settings: Settings, migrated_engines: dict[str, Engine]
) -> FastAPI:
    return create_app(table_settings, engine=migrated_engines[table_backend])


@pytest.fixture(scope="module")
def table_client(table_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(table_app, raise_server_exceptions=False) as client:
        yield client


@dataclass
class Case:
    table: Table
    client: TestClient
    connection: Connection


@pytest.fixture
def case(
    table: Table,
    world_state: dict[str, object],
    table_connection: Connection,
    table_app: FastAPI,
    table_client: TestClient,
) -> Iterator[Case]:
    savepoint = table_connection.begin_nested()
    factory = _factory(table_connection)
    state = table_app.state
    state.session_factory = state.read_session_factory = factory
    state.clock, state.bus = FrozenClock(CASE_TIME), EventBus()
    table_client.cookies.clear()
    yield Case(table=table, client=table_client, connection=table_connection)
    assert savepoint.is_active, "the case ended the transaction it ran in"
    savepoint.rollback()
    assert fingerprint(table_connection) == world_state, "the world was not restored"


def call(case: Case, row: Row, caller: Caller, *, csrf: bool = True) -> Response:
    client, table = case.client, case.table
    client.cookies.clear()
    if caller is Caller.anonymous:
        client.cookies.set(CSRF_COOKIE, ANONYMOUS_CSRF)
    else:
        client.cookies.set(SESSION_COOKIE, table.cookies[caller])
    headers = {"X-CSRF-Token": table.csrf[caller]} if csrf and row.method == "POST" else {}
    fill = {**table.ids}
    data = {k: v.format(**fill) for k, v in row.data.items()} if row.method == "POST" else None
    params = {k: v.format(**fill) for k, v in row.query.items()}
    response: Response = client.request(
        row.method,
        url_of(row, table),
        params=params,
        headers=headers,
        data=data,
        follow_redirects=False,
    )
    return response


def _difference(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, Any]:
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


# --- the route list --------------------------------------------------------------------------

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(list(included.routes), prefix + getattr(context, "prefix", ""))
            continue
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if path is not None and method in _METHODS:
                yield method, prefix + path


def web_routes() -> set[tuple[str, str]]:
    return set(_walk(list(web_router.routes)))


def test_every_web_route_is_in_the_table() -> None:
    routes = web_routes()
    assert len(routes) > 100, "the route walk found too little: did FastAPI change?"
    covered = {row.route for row in TABLE}
    missing = sorted(routes - covered)
    stale = sorted(covered - routes)
    assert not missing, "page routes without a row in TABLE: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    assert not stale, "TABLE rows for routes that are gone: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )
    for row in TABLE:
        assert set(row.expect) == set(Caller), row.route


def _cases() -> Iterator[Any]:
    for index, row in enumerate(TABLE):
        for caller in Caller:
            name = f"{row.method} {row.path}#{index}-{caller.value}"
            marks = []
            if row.skip_allowed and row.expect[caller] is Gate.allowed:
                marks.append(pytest.mark.skip(reason=row.skip_allowed))
            yield pytest.param(row, caller, id=name, marks=marks)


@pytest.mark.parametrize(("row", "caller"), list(_cases()))
def test_page_gate(row: Row, caller: Caller, case: Case) -> None:
    expected = row.expect[caller]
    refused = expected in (Gate.login, Gate.hidden) or (
        isinstance(expected, int) and expected >= 400
    )
    before = fingerprint(case.connection) if refused else None

    response = call(case, row, caller)

    status, location = response.status_code, response.headers.get("location", "")
    what = f"{row.method} {url_of(row, case.table)} as {caller.value}"
    assert status < 500, f"{what}: {status} {response.text[:300]}"
    if expected is Gate.login:
        assert status == 303, f"{what}: {status} {location}"
        assert location.startswith("/login?next="), f"{what}: {location}"
    elif expected is Gate.hidden:
        assert status == 404, f"{what}: expected the 404 page, got {status} {location}"
        assert "text/html" in response.headers["content-type"]
    elif expected is Gate.allowed:
        assert status != 404, f"{what}: refused: {response.text[:300]}"
        assert not location.startswith("/login?next="), f"{what}: sent to sign in"
        assert not any(
            escape(CsrfFailed.message.render(locale)) in response.text
            for locale in SUPPORTED_LOCALES
        ), what
    else:
        assert status == expected, f"{what}: expected {expected}, got {status} {location}"
    if before is not None:
        after = fingerprint(case.connection)
        assert after == before, f"{what}: a refusal changed {_difference(before, after)}"


def _post_cases() -> Iterator[Any]:
    order = [Caller.admin, Caller.lead, Caller.agent, Caller.customer_requester, Caller.anonymous]
    for index, row in enumerate(TABLE):
        if row.method == "GET":
            continue
        caller = next((c for c in order if row.expect[c] is Gate.allowed), None)
        if caller is not None:
            yield pytest.param(row, caller, id=f"{row.path}#{index}-{caller.value}")


@pytest.mark.parametrize(("row", "caller"), list(_post_cases()))
def test_every_post_needs_its_csrf_token(row: Row, caller: Caller, case: Case) -> None:
    before = fingerprint(case.connection)
    response = call(case, row, caller, csrf=False)
    assert response.status_code == 403, (
        f"POST {row.path} as {caller.value} without a CSRF token: {response.status_code}"
    )
    assert "text/html" in response.headers["content-type"]
    assert any(
        escape(CsrfFailed.message.render(locale)) in response.text for locale in SUPPORTED_LOCALES
    ), response.text[:500]
    after = fingerprint(case.connection)
    assert after == before, f"a refused post changed {_difference(before, after)}"
