"""The authorisation matrix: every endpoint of /api/v1, called by every role.

The rules (issue 2, DESIGN §2.6): anonymous callers get 401; a ticket the caller may not see
answers 404, exactly like one that does not exist (so does any record the caller may not see);
a visible object with an action the caller's role may not take answers 403; otherwise the
success code. Every error is problem+json, and a refusal changes nothing and sends nothing.

Each case starts from the same fresh world (``authorization_world``), since a success may
change it: the world is built once per backend and every case runs in a SAVEPOINT rolled back
afterwards (and checked to be restored). A new endpoint fails
``test_every_route_is_in_the_matrix`` until it has a row in ``MATRIX``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.api.authorization_world import (
    AGENTS,
    CUSTOMERS,
    PNG,
    WEBHOOK_SLUG,
    Caller,
    World,
    build_world,
    fingerprint,
)
from tests.conftest import BACKENDS, START
from tests.integration.channels.crm_server import free_port

from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.models import Agent
from closeloop.accounts.passwords import hash_password
from closeloop.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX
from closeloop.app import create_app
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm import service as crm
from closeloop.channels.crm.schemas import CrmSettingsUpdate
from closeloop.channels.webhook.signing import signature_header
from closeloop.channels.wechat.models import WeChatAccount
from closeloop.channels.wechat.signature import compute_signature
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.tickets.models import Ticket

API = "/api/v1"
MATRIX_SECRET_KEY = "test-secret-key-that-is-long-enough"
# Each case's clock (later than the world's, so that any change stamps a newer updated_at).
CASE_TIME = START + timedelta(minutes=5)
PASSWORD = "matrix password 1"

Expect = dict[Caller, int]
Body = Callable[[World, Caller], Any]
Prepare = Callable[[World, UnitOfWork], None]
Check = Callable[[httpx.Response, World, Caller], None]


# --- expectations ---------------------------------------------------------------------------


def by_role(*, customers: int, agents: int, anonymous: int = 401, **overrides: int) -> Expect:
    """One status for customers, one for agents; ``overrides`` by caller name."""
    expect = {Caller.anonymous: anonymous}
    expect.update(dict.fromkeys(CUSTOMERS, customers))
    expect.update(dict.fromkeys(AGENTS, agents))
    expect.update({Caller(name): status for name, status in overrides.items()})
    return expect


def anyone(ok: int) -> Expect:
    """Public: signed in or not."""
    return by_role(customers=ok, agents=ok, anonymous=ok)


def everyone(ok: int) -> Expect:
    """Any signed-in caller."""
    return by_role(customers=ok, agents=ok)


def staff(ok: int) -> Expect:
    """A list or an action agents of any role may use; customers' role may not (403)."""
    return by_role(customers=403, agents=ok)


def staff_record(ok: int) -> Expect:
    """An account record every agent reads; customers may not see it (404)."""
    return by_role(customers=404, agents=ok)


def admin_only(ok: int, *, customers: int = 403) -> Expect:
    return by_role(customers=customers, agents=403, admin=ok)


def sees_x(ok: int) -> Expect:
    """Ticket X (team A, requested by R): hidden from T and from the other team's agent."""
    return by_role(customers=ok, agents=ok, customer_other=404, agent_other_team=404)


def agents_on_x(ok: int) -> Expect:
    """An agents' action on ticket X: the customers who see it get 403."""
    return sees_x(ok) | {Caller.customer_requester: 403, Caller.customer_company_admin: 403}


# --- requests -------------------------------------------------------------------------------


def no_body(_world: World, _caller: Caller) -> None:
    return None


def fixed(body: Any) -> Body:
    return lambda _world, _caller: body


def ticket_body(world: World, caller: Caller) -> dict[str, Any]:
    """Customers write in for themselves; agents name the requester."""
    body: dict[str, Any] = {"subject": "Printer offline", "description": "Since 9:00."}
    if caller in AGENTS:
        body["requester_id"] = world.requester
    return body


def give_agent_a_password(world: World, uow: UnitOfWork) -> None:
    uow.session.execute(
        update(Agent).where(Agent.id == world.agent).values(password_hash=_password_hash())
    )


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2: once per session, not per case


def resolve_x(world: World, uow: UnitOfWork) -> None:
    uow.session.execute(update(Ticket).where(Ticket.id == world.ticket_x).values(status="resolved"))


def assign_x_to_other_team_agent(world: World, uow: UnitOfWork) -> None:
    uow.session.execute(
        update(Ticket).where(Ticket.id == world.ticket_x).values(assignee_id=world.agent_other)
    )


WEBHOOK_MESSAGE = {
    "external_id": "matrix-1",
    "customer": {"email": "caller@example.net", "name": "Caller"},
    "subject": "App crashes",
    "body": "On start.",
}


def configure_unreachable_crm(uow: UnitOfWork) -> None:
    crm.update_settings(
        uow,
        data=CrmSettingsUpdate(
            url_template=f"http://127.0.0.1:{free_port()}/customers?email={{email}}"
        ),
        cipher=channel_cipher(MATRIX_SECRET_KEY),
        actor=SYSTEM,
        via="test",
    )


WECHAT_ACCOUNT_ID = 4242
WECHAT_TOKEN = "matrixToken"


def add_wechat_account(_world: World, uow: UnitOfWork) -> None:
    """A plain-mode official account with a known id (the callback's path names it)."""
    cipher = channel_cipher(MATRIX_SECRET_KEY)
    uow.session.add(
        WeChatAccount(
            id=WECHAT_ACCOUNT_ID,
            name="服务号",
            app_id="wx0000000000matrix",
            app_secret_encrypted=cipher.encrypt("app-secret-0000"),
            token_encrypted=cipher.encrypt(WECHAT_TOKEN),
            encryption_mode="plain",
            is_active=True,
            created_at=START,
            updated_at=START,
        )
    )


def wechat_signed(echostr: str | None = None) -> dict[str, str]:
    """The query WeChat adds: signed with the account's token at the cases' time."""
    stamp = str(int(CASE_TIME.timestamp()))
    query = {"signature": compute_signature(WECHAT_TOKEN, stamp, "n0nce"), "timestamp": stamp}
    query["nonce"] = "n0nce"
    return query | ({"echostr": echostr} if echostr is not None else {})


def wechat_ids(_world: World) -> dict[str, int]:
    return {"account_id": WECHAT_ACCOUNT_ID}


def lists_x_if_visible(response: httpx.Response, world: World, caller: Caller) -> None:
    listed = {item["id"] for item in response.json()["items"]}
    assert (world.ticket_x in listed) == (sees_x(200)[caller] == 200), listed


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the route's template, exactly as the app declares it
    expect: Expect
    body: Body = no_body
    ids: Callable[[World], Mapping[str, int]] = lambda _world: {}
    if_match: bool = False  # send If-Match with ticket_id's current version
    upload: bool = False  # multipart ``file``
    query: Mapping[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None  # change the world first
    check: Check | None = None  # more assertions on a success
    variant: str = ""
    bugs: Mapping[Caller, str] = field(default_factory=dict)
    signed: bool = False  # a webhook body, signed with the world's source secret at CASE_TIME

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path

    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.variant})" if self.variant else "")


MATRIX: list[Row] = [
    Row("GET", f"{API}/openapi.json", anyone(200)),
    # --- auth
    Row("GET", f"{API}/auth/me", everyone(200)),
    Row(
        "POST",
        f"{API}/auth/session",
        anyone(200),
        body=lambda w, _c: {"email": w.agent_email, "password": PASSWORD},
        prepare=give_agent_a_password,
    ),
    Row("DELETE", f"{API}/auth/session", anyone(204)),
    # --- tickets
    Row("POST", f"{API}/tickets", everyone(201), body=ticket_body),
    Row("GET", f"{API}/tickets", everyone(200), check=lists_x_if_visible),
    Row("GET", f"{API}/tickets/{{ticket_id}}", sees_x(200)),
    Row(
        "GET",
        f"{API}/tickets/{{ticket_id}}",
        sees_x(200) | {Caller.agent_other_team: 200},
        prepare=assign_x_to_other_team_agent,
        variant="assigned to the other team's agent",
    ),
    Row(
        "PATCH",
        f"{API}/tickets/{{ticket_id}}",
        agents_on_x(200),
        body=fixed({"priority": "P1"}),
        if_match=True,
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/transitions",
        agents_on_x(200),
        body=fixed({"status": "resolved"}),
        if_match=True,
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/transitions",
        sees_x(200),
        body=fixed({"status": "closed"}),
        if_match=True,
        prepare=resolve_x,
        variant="customer confirms the resolution",
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/assignment",
        agents_on_x(200) | {Caller.agent: 403},
        body=lambda w, _c: {"team_id": w.team_a, "assignee_id": w.teammate},
        if_match=True,
        variant="to a teammate in team A",
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/assignment",
        agents_on_x(200),
        body=lambda w, _c: {"team_id": w.team_b, "assignee_id": None},
        if_match=True,
        variant="hand over to team B",
    ),
    Row("POST", f"{API}/tickets/{{ticket_id}}/messages", sees_x(201), body=fixed({"body": "Hi"})),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/messages",
        agents_on_x(201),
        body=fixed({"kind": "internal_note", "body": "Check the router."}),
        variant="internal note",
    ),
    Row("GET", f"{API}/tickets/{{ticket_id}}/messages", sees_x(200)),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/follow-ups",
        sees_x(201),
        body=fixed({"subject": "Still broken"}),
    ),
    Row("GET", f"{API}/tickets/{{ticket_id}}/timeline", sees_x(200)),
    # --- ticket relations
    Row("GET", f"{API}/tickets/{{ticket_id}}/links", sees_x(200)),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/links",
        agents_on_x(201),
        body=lambda w, _c: {"target_ticket_id": w.ticket_y, "kind": "duplicate_of"},
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/links",
        agents_on_x(201) | {Caller.agent: 404, Caller.lead: 404},
        body=lambda w, _c: {"target_ticket_id": w.ticket_z, "kind": "related"},
        variant="to team B's ticket Z",
    ),
    Row("DELETE", f"{API}/tickets/{{ticket_id}}/links/{{link_id}}", agents_on_x(204)),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/merge",
        agents_on_x(200),
        body=lambda w, _c: {"into_ticket_id": w.ticket_y},
        if_match=True,
    ),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/merge",
        agents_on_x(200) | {Caller.agent: 404, Caller.lead: 404},
        body=lambda w, _c: {"into_ticket_id": w.ticket_z},
        if_match=True,
        variant="into team B's ticket Z",
    ),
    Row("GET", f"{API}/tickets/{{ticket_id}}/followers", sees_x(200)),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/followers",
        sees_x(201) | {Caller.customer_company_admin: 403},
        body=lambda w, _c: {"customer_id": w.company_admin},
        variant="the requester's colleague",
    ),
    Row(
        "DELETE",
        f"{API}/tickets/{{ticket_id}}/followers/{{follower_id}}",
        sees_x(204) | {Caller.customer_company_admin: 403},
        variant="a customer colleague",
    ),
    # --- attachments
    Row("POST", f"{API}/tickets/{{ticket_id}}/attachments", sees_x(201), upload=True),
    Row("GET", f"{API}/attachments/{{attachment_id}}", sees_x(200), variant="of a public reply"),
    Row(
        "GET",
        f"{API}/attachments/{{attachment_id}}",
        agents_on_x(200) | {Caller.customer_requester: 404, Caller.customer_company_admin: 404},
        ids=lambda w: {"attachment_id": w.note_attachment},
        variant="of an internal note",
    ),
    Row("GET", f"{API}/attachments/{{attachment_id}}/content", sees_x(200)),
    Row(
        "GET",
        f"{API}/attachments/{{attachment_id}}/content",
        agents_on_x(200) | {Caller.customer_requester: 404, Caller.customer_company_admin: 404},
        ids=lambda w: {"attachment_id": w.note_attachment},
        variant="of an internal note",
    ),
    # --- custom fields
    Row("GET", f"{API}/custom-fields", staff(200)),
    Row(
        "POST",
        f"{API}/custom-fields",
        admin_only(201),
        body=fixed({"key": "contract_no", "label_en": "Contract", "field_type": "text"}),
    ),
    Row(
        "PATCH",
        f"{API}/custom-fields/{{field_id}}",
        admin_only(200),
        body=fixed({"label_en": "Order no."}),
    ),
    # --- agents
    Row("GET", f"{API}/agents", staff(200)),
    Row(
        "POST",
        f"{API}/agents",
        admin_only(201),
        body=fixed({"name": "Zhao Lei", "email": "zhao.lei@example.com"}),
    ),
    Row("GET", f"{API}/agents/{{agent_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/agents/{{agent_id}}",
        admin_only(200, customers=404) | {Caller.agent: 200},
        body=fixed({"name": "Renamed"}),
        variant="the agent's own name",
    ),
    Row(
        "PATCH",
        f"{API}/agents/{{agent_id}}",
        admin_only(200, customers=404),
        body=fixed({"role": "admin"}),
        variant="the agent's own role",
    ),
    Row(
        "POST",
        f"{API}/agents/{{agent_id}}/password",
        admin_only(204, customers=404),
        body=fixed({"new_password": "a brand new password"}),
        ids=lambda w: {"agent_id": w.teammate},
        variant="a teammate's",
    ),
    Row("GET", f"{API}/agents/{{agent_id}}/skills", staff_record(200)),
    Row("GET", f"{API}/agents/{{agent_id}}/skills/{{skill_id}}", staff_record(200)),
    Row(
        "PUT",
        f"{API}/agents/{{agent_id}}/skills/{{skill_id}}",
        admin_only(200, customers=404),
        body=fixed({"level": 5}),
    ),
    Row(
        "DELETE",
        f"{API}/agents/{{agent_id}}/skills/{{skill_id}}",
        admin_only(204, customers=404),
    ),
    # --- teams
    Row("GET", f"{API}/teams", staff(200)),
    Row("POST", f"{API}/teams", admin_only(201), body=fixed({"name": "Team Matrix"})),
    Row("GET", f"{API}/teams/{{team_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/teams/{{team_id}}",
        admin_only(200, customers=404),
        body=fixed({"description": "Network and VPN"}),
    ),
    Row("DELETE", f"{API}/teams/{{team_id}}", admin_only(204, customers=404)),
    Row(
        "PUT",
        f"{API}/teams/{{team_id}}/members/{{agent_id}}",
        admin_only(200, customers=404),
        ids=lambda w: {"agent_id": w.agent_other},
    ),
    Row(
        "DELETE",
        f"{API}/teams/{{team_id}}/members/{{agent_id}}",
        admin_only(204, customers=404),
        ids=lambda w: {"agent_id": w.teammate},
    ),
    # --- skills
    Row("GET", f"{API}/skills", staff(200)),
    Row("POST", f"{API}/skills", admin_only(201), body=fixed({"name": "Networking"})),
    Row("GET", f"{API}/skills/{{skill_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/skills/{{skill_id}}",
        admin_only(200, customers=404),
        body=fixed({"description": "Routers, VPN"}),
    ),
    Row("DELETE", f"{API}/skills/{{skill_id}}", admin_only(204, customers=404)),
    # --- customers (customer_id is R, the requester)
    Row("GET", f"{API}/customers", staff(200)),
    Row(
        "POST",
        f"{API}/customers",
        staff(201),
        body=fixed({"name": "Zhang Wei", "emails": ["zhang.wei@example.cn"]}),
    ),
    Row(
        "GET",
        f"{API}/customers/{{customer_id}}",
        staff_record(200) | {Caller.customer_requester: 200},
    ),
    Row(
        "PATCH",
        f"{API}/customers/{{customer_id}}",
        staff_record(200) | {Caller.customer_requester: 200},
        body=fixed({"name": "Wang Fang"}),
        variant="the name",
    ),
    Row(
        "PATCH",
        f"{API}/customers/{{customer_id}}",
        staff_record(200) | {Caller.customer_requester: 403},
        body=fixed({"is_company_admin": True}),
        variant="company admin flag",
    ),
    Row(
        "POST",
        f"{API}/customers/{{customer_id}}/identities",
        staff_record(201) | {Caller.customer_requester: 403},
        body=fixed({"kind": "email", "value": "wang.fang@example.net"}),
    ),
    Row(
        "DELETE",
        f"{API}/customers/{{customer_id}}/identities/{{identity_id}}",
        staff_record(204) | {Caller.customer_requester: 403},
    ),
    Row(
        "GET",
        f"{API}/customers/{{customer_id}}/identities",
        staff_record(200) | {Caller.customer_requester: 200},
    ),
    Row(
        "POST",
        f"{API}/customers/{{customer_id}}/merge",
        staff_record(200),
        body=lambda w, _c: {"into_customer_id": w.company_admin},
        variant="R into S, a colleague (customers never see the other)",
    ),
    # --- companies (company_id is C, R's company)
    Row("GET", f"{API}/companies", staff(200)),
    Row("POST", f"{API}/companies", staff(201), body=fixed({"name": "Matrix Ltd"})),
    Row("GET", f"{API}/companies/{{company_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/companies/{{company_id}}",
        staff_record(200),
        body=fixed({"notes": "Key account"}),
    ),
    Row(
        "DELETE",
        f"{API}/companies/{{company_id}}",
        staff_record(204),
        ids=lambda w: {"company_id": w.company_empty},
        variant="without customers",
    ),
    # --- organisation
    Row("GET", f"{API}/organisation", staff(200)),
    Row("PATCH", f"{API}/organisation", admin_only(200), body=fixed({"name": "Closeloop Ltd"})),
    # --- API tokens (token_id is a spare token of the agent)
    Row("GET", f"{API}/api-tokens", everyone(200)),
    Row("POST", f"{API}/api-tokens", staff(201), body=fixed({"name": "ci"})),
    Row(
        "DELETE",
        f"{API}/api-tokens/{{token_id}}",
        by_role(customers=404, agents=404, agent=204, admin=204),
        variant="the agent's",
    ),
    # --- jobs
    Row("GET", f"{API}/jobs", admin_only(200)),
    Row("GET", f"{API}/jobs/stats", admin_only(200)),
    Row("POST", f"{API}/jobs/{{job_id}}/retry", admin_only(200)),
    # --- channels: the inbound quarantine (inbound_id is an empty email in quarantine)
    Row("GET", f"{API}/channels/quarantine", admin_only(200)),
    Row("POST", f"{API}/channels/quarantine/{{inbound_id}}/release", admin_only(200)),
    Row("POST", f"{API}/channels/quarantine/{{inbound_id}}/discard", admin_only(200)),
    Row("GET", f"{API}/channels/inbound/{{inbound_id}}/raw", admin_only(200)),
    # --- notifications (notification_id is the agent's)
    Row("GET", f"{API}/notifications", staff(200)),
    Row("POST", f"{API}/notifications/read-all", staff(200)),
    Row(
        "POST",
        f"{API}/notifications/{{notification_id}}/read",
        by_role(customers=403, agents=404, agent=200),
        variant="the agent's",
    ),
    Row("GET", f"{API}/notification-channels", admin_only(200)),
    Row(
        "POST",
        f"{API}/notification-channels",
        admin_only(201),
        body=fixed(
            {
                "kind": "wecom",
                "name": "Night shift",
                "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
                "events": ["sla.breached"],
            }
        ),
    ),
    Row(
        "PATCH",
        f"{API}/notification-channels/{{channel_id}}",
        admin_only(200),
        body=fixed({"name": "Day shift"}),
    ),
    Row("DELETE", f"{API}/notification-channels/{{channel_id}}", admin_only(204)),
    Row("POST", f"{API}/notification-channels/{{channel_id}}/test", admin_only(202)),
    # --- email mailboxes and team email templates (administrators only)
    Row("GET", f"{API}/mailboxes", admin_only(200)),
    Row(
        "POST",
        f"{API}/mailboxes",
        admin_only(201),
        body=lambda w, _c: {
            "team_id": w.team_b,
            "name": "Team B",
            "address": "team-b@example.cn",
            "imap_host": "imap.example.cn",
            "username": "team-b",
            "password": "imap password",
        },
    ),
    Row("GET", f"{API}/mailboxes/{{mailbox_id}}", admin_only(200)),
    Row(
        "PATCH",
        f"{API}/mailboxes/{{mailbox_id}}",
        admin_only(200),
        body=fixed({"name": "Team A support", "mark_seen": False}),
    ),
    Row("DELETE", f"{API}/mailboxes/{{mailbox_id}}", admin_only(204)),
    Row("POST", f"{API}/mailboxes/{{mailbox_id}}/test", admin_only(200)),
    Row("GET", f"{API}/teams/{{team_id}}/email-template", admin_only(200)),
    Row(
        "PUT",
        f"{API}/teams/{{team_id}}/email-template",
        admin_only(200),
        body=fixed({"sender_name": "Team A", "acknowledgement_subject_en": "Got it [{number}]"}),
    ),
    # --- SLA (staff read, admins change, customers see none of it: 403 for their role;
    # calendar_id is a spare calendar, day_id its holiday, policy_id the second policy)
    Row("GET", f"{API}/sla/calendars", staff(200)),
    Row(
        "POST",
        f"{API}/sla/calendars",
        admin_only(201),
        body=fixed({"name": "Hotline", "preset": "7x12"}),
    ),
    Row("GET", f"{API}/sla/calendars/{{calendar_id}}", staff(200)),
    Row(
        "PATCH",
        f"{API}/sla/calendars/{{calendar_id}}",
        admin_only(200),
        body=fixed({"name": "Night line"}),
    ),
    Row("DELETE", f"{API}/sla/calendars/{{calendar_id}}", admin_only(204), variant="unused"),
    Row(
        "POST",
        f"{API}/sla/calendars/{{calendar_id}}/days",
        admin_only(200),
        body=fixed({"date": "2026-05-01", "kind": "holiday", "name": "劳动节"}),
    ),
    Row("DELETE", f"{API}/sla/calendars/{{calendar_id}}/days/{{day_id}}", admin_only(204)),
    Row(
        "POST",
        f"{API}/sla/calendars/{{calendar_id}}/holidays/import",
        admin_only(200),
        body=fixed(
            {
                "year": 2027,
                "region": "CN",
                "holidays": [{"date": "2027-01-01", "name": "元旦"}],
                "makeup_workdays": [],
            }
        ),
    ),
    Row(
        "POST",
        f"{API}/sla/calendars/{{calendar_id}}/holidays/bundled",
        admin_only(200),
        body=fixed({"region": "CN", "year": 2026}),
    ),
    Row("GET", f"{API}/sla/policies", staff(200)),
    Row(
        "POST",
        f"{API}/sla/policies",
        admin_only(201),
        body=fixed(
            {
                "name": "VIP",
                "conditions": {"customer_tiers": ["vip"]},
                "targets": [{"priority": "P1", "kind": "first_response", "minutes": 30}],
            }
        ),
    ),
    Row(
        "POST",
        f"{API}/sla/policies/reorder",
        admin_only(200),
        body=lambda w, _c: {"policy_ids": list(reversed(w.policies))},
    ),
    Row(
        "POST",
        f"{API}/sla/policies/match",
        staff(200) | {Caller.agent_other_team: 404},
        body=lambda w, _c: {"ticket_id": w.ticket_x},
        variant="of ticket X",
    ),
    Row(
        "POST",
        f"{API}/sla/policies/match",
        staff(200),
        body=fixed({"priority": "P2", "type": "fault", "channel": "email"}),
        variant="of attributes",
    ),
    Row("GET", f"{API}/sla/policies/{{policy_id}}", staff(200)),
    Row(
        "PATCH",
        f"{API}/sla/policies/{{policy_id}}",
        admin_only(200),
        body=fixed({"is_active": False}),
    ),
    Row("DELETE", f"{API}/sla/policies/{{policy_id}}", admin_only(204)),
    Row(
        "GET",
        f"{API}/tickets/{{ticket_id}}/sla",
        agents_on_x(200),
    ),
    Row(
        "GET",
        f"{API}/sla/attainment",
        staff(200),
        query={"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    ),
    # --- routing (rules: staff read, admins change; a team's strategy: its lead or admins;
    # availability: the agent's status by themself, the rest by a lead of their team or admins)
    Row("GET", f"{API}/routing/rules", staff(200)),
    Row(
        "POST",
        f"{API}/routing/rules",
        admin_only(201),
        body=lambda w, _c: {
            "name": "Invoices",
            "conditions": [{"field": "text", "operator": "contains", "value": ["发票", "invoice"]}],
            "actions": {"team_id": w.team_b},
        },
    ),
    Row(
        "PUT",
        f"{API}/routing/rules/order",
        admin_only(200),
        body=lambda w, _c: {"rule_ids": [w.rule]},
    ),
    Row(
        "POST",
        f"{API}/routing/rules/dry-run",
        staff(200) | {Caller.agent_other_team: 404},
        body=lambda w, _c: {"ticket_id": w.ticket_x},
        variant="of ticket X",
    ),
    Row(
        "POST",
        f"{API}/routing/rules/dry-run",
        staff(200),
        body=fixed({"ticket": {"subject": "VPN 断开"}}),
        variant="of a described ticket",
    ),
    Row("GET", f"{API}/routing/rules/{{rule_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/routing/rules/{{rule_id}}",
        admin_only(200),
        body=fixed({"is_active": False}),
    ),
    Row("DELETE", f"{API}/routing/rules/{{rule_id}}", admin_only(204)),
    Row("GET", f"{API}/routing/settings", staff(200)),
    Row(
        "PATCH",
        f"{API}/routing/settings",
        admin_only(200),
        body=fixed({"ping_pong_threshold": 4}),
    ),
    Row("GET", f"{API}/routing/teams/{{team_id}}", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/routing/teams/{{team_id}}",
        by_role(customers=404, agents=403, lead=200, admin=200),
        body=fixed({"strategy": "round_robin"}),
    ),
    Row(
        "GET",
        f"{API}/routing/teams/{{team_id}}/queue",
        staff(200) | {Caller.agent_other_team: 403},
    ),
    Row(
        "GET",
        f"{API}/routing/teams/{{team_id}}/agents",
        staff(200) | {Caller.agent_other_team: 403},
    ),
    Row(
        "GET",
        f"{API}/routing/triage",
        by_role(customers=403, agents=403, supervisor=200, admin=200),
    ),
    Row("GET", f"{API}/routing/agents/{{agent_id}}/availability", staff_record(200)),
    Row(
        "PATCH",
        f"{API}/routing/agents/{{agent_id}}/availability",
        by_role(customers=404, agents=403, agent=200, lead=200, admin=200),
        body=fixed({"status": "online"}),
        variant="the agent's status",
    ),
    Row(
        "PATCH",
        f"{API}/routing/agents/{{agent_id}}/availability",
        by_role(customers=404, agents=403, lead=200, admin=200),
        body=fixed({"capacity": 30}),
        variant="the agent's capacity",
    ),
    Row(
        "PUT",
        f"{API}/routing/agents/{{agent_id}}/shifts",
        by_role(customers=404, agents=403, lead=200, admin=200),
        body=fixed({"shifts": [{"weekday": 0, "start": "09:00", "end": "18:00"}]}),
    ),
    Row("POST", f"{API}/routing/next", staff(200)),
    Row("GET", f"{API}/routing/tickets/{{ticket_id}}", agents_on_x(200)),
    Row(
        "POST",
        f"{API}/tickets/{{ticket_id}}/transfer",
        agents_on_x(200),
        body=lambda w, _c: {"team_id": w.team_b, "reason": "Network team"},
    ),
    Row("GET", f"{API}/tickets/{{ticket_id}}/transfers", agents_on_x(200)),
    # --- webhook intake (public: the signature is the credential) and its sources (admins)
    Row(
        "POST",
        f"{API}/channels/webhook/{{slug}}",
        anyone(201),
        body=fixed(WEBHOOK_MESSAGE),
        signed=True,
    ),
    Row(
        "POST",
        f"{API}/channels/webhook/{{slug}}",
        anyone(401),
        body=fixed(WEBHOOK_MESSAGE),
        variant="unsigned: a bearer token is no signature",
    ),
    Row("GET", f"{API}/channels/webhook-sources", admin_only(200)),
    Row(
        "POST",
        f"{API}/channels/webhook-sources",
        admin_only(201),
        body=fixed({"name": "Call centre", "slug": "call-centre", "channel": "phone"}),
    ),
    Row("GET", f"{API}/channels/webhook-sources/{{source_id}}", admin_only(200)),
    Row(
        "PATCH",
        f"{API}/channels/webhook-sources/{{source_id}}",
        admin_only(200),
        body=fixed({"is_active": False}),
    ),
    Row("DELETE", f"{API}/channels/webhook-sources/{{source_id}}", admin_only(204)),
    Row(
        "POST",
        f"{API}/channels/webhook-sources/{{source_id}}/rotate-secret",
        admin_only(200),
        body=fixed({"keep_previous_seconds": 0}),
    ),
    # --- WeChat callback (public: the account's signature is the credential) and accounts
    Row(
        "GET",
        f"{API}/channels/wechat/{{account_id}}/callback",
        anyone(200),
        ids=wechat_ids,
        query=wechat_signed("echo-1"),
        prepare=add_wechat_account,
        variant="signed URL verification",
    ),
    Row(
        "GET",
        f"{API}/channels/wechat/{{account_id}}/callback",
        anyone(403),
        ids=wechat_ids,
        query={"echostr": "echo-1"},
        prepare=add_wechat_account,
        variant="unsigned: a bearer token is no signature",
    ),
    Row(
        "POST",
        f"{API}/channels/wechat/{{account_id}}/callback",
        anyone(403),
        ids=wechat_ids,
        prepare=add_wechat_account,
        variant="unsigned: a bearer token is no signature",
    ),
    Row(
        "POST",
        f"{API}/channels/wechat/{{account_id}}/callback",
        anyone(400),
        ids=wechat_ids,
        query=wechat_signed(),
        prepare=add_wechat_account,
        variant="signed, but not a WeChat XML push",
    ),
    Row("GET", f"{API}/channels/wechat/accounts", admin_only(200)),
    Row(
        "POST",
        f"{API}/channels/wechat/accounts",
        admin_only(201),
        body=fixed(
            {
                "name": "客服号",
                "app_id": "wx5823bf96d3bd56c7",
                "app_secret": "b0c1d2e3f4a5b6c7",
                "token": "token123",
                "encryption_mode": "plain",
            }
        ),
    ),
    Row(
        "GET",
        f"{API}/channels/wechat/accounts/{{account_id}}",
        admin_only(200),
        ids=wechat_ids,
        prepare=add_wechat_account,
    ),
    Row(
        "PATCH",
        f"{API}/channels/wechat/accounts/{{account_id}}",
        admin_only(200),
        body=fixed({"name": "售后号"}),
        ids=wechat_ids,
        prepare=add_wechat_account,
    ),
    Row(
        "DELETE",
        f"{API}/channels/wechat/accounts/{{account_id}}",
        admin_only(204),
        ids=wechat_ids,
        prepare=add_wechat_account,
    ),
    # --- CRM lookup (admins)
    Row("GET", f"{API}/channels/crm", admin_only(200)),
    Row("PATCH", f"{API}/channels/crm", admin_only(200), body=fixed({"timeout_seconds": 3})),
    Row(
        "POST",
        f"{API}/channels/crm/test",
        admin_only(200),
        body=fixed({"email": "wang.fang@example.cn"}),
        prepare=lambda _w, uow: configure_unreachable_crm(uow),
        variant="a CRM that does not answer",
    ),
]


# --- the route list -------------------------------------------------------------------------

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, descending into included routers (FastAPI ≥ 0.165 keeps
    them as ``_IncludedRouter`` objects that know their router and the prefix it got)."""
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


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) under /api/v1, from the routes themselves and from the OpenAPI
    document (each would catch what a future FastAPI hides from the other)."""
    found = set(_walk(list(app.routes)))
    for path, operations in app.openapi()["paths"].items():
        found.update((method.upper(), path) for method in operations if method.upper() in _METHODS)
    return {(method, path) for method, path in found if path.startswith(f"{API}/")}


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = app_routes(app)
    assert len(routes) > 50, "the route walk found too little: did FastAPI change?"
    covered = {row.route for row in MATRIX}
    missing = sorted(routes - covered)
    stale = sorted(covered - routes)
    assert not missing, "endpoints without a row in MATRIX: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    assert not stale, "MATRIX rows for endpoints that are gone: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


def test_matrix_rows_are_complete() -> None:
    names = [row.name() for row in MATRIX]
    assert len(names) == len(set(names)), "two rows with the same name: give one a variant"
    for row in MATRIX:
        assert set(row.expect) == set(Caller), row.name()
        assert set(row.bugs) <= set(Caller), row.name()


# --- the matrix -----------------------------------------------------------------------------


def _cases() -> Iterator[Any]:
    for row in MATRIX:
        for caller in Caller:
            marks = []
            if caller in row.bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=f"BUG: {row.bugs[caller]}"))
            yield pytest.param(row, caller, id=f"{row.name()}-{caller.value}", marks=marks)


# One world per backend, built once; each case runs inside a SAVEPOINT that is rolled back
# afterwards, so every case starts from the same fresh world (and checks that it did) without
# paying for the build (~90 ms) 700 times per backend.


@dataclass
class Case:
    """What one case runs with: the world (restored), a client, and a way to change the world."""

    world: World
    client: TestClient
    connection: Connection
    make_uow: Callable[[], UnitOfWork]


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def matrix_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("matrix") / "data",
        secret_key=MATRIX_SECRET_KEY,
        max_request_bytes=64 * 1024,
        max_attachment_bytes=256 * 1024,
    )


@pytest.fixture(scope="module")
def matrix_connection(
    matrix_backend: str, migrated_engines: dict[str, Engine]
) -> Iterator[Connection]:
    with migrated_engines[matrix_backend].connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture(scope="module")
def matrix_world(matrix_connection: Connection, matrix_settings: Settings) -> World:
    factory = _session_factory(matrix_connection)
    with UnitOfWork(factory, bus=EventBus(), clock=FrozenClock(START)) as uow:
        return build_world(
            uow,
            attachments_dir=matrix_settings.attachments_dir,
            secret_key=matrix_settings.secret_key.get_secret_value(),
        )


@pytest.fixture(scope="module")
def world_state(matrix_world: World, matrix_connection: Connection) -> dict[str, object]:
    """The fingerprint of the fresh world, which every case must leave behind."""
    return fingerprint(matrix_connection)


@pytest.fixture(scope="module")
def matrix_app(
    matrix_backend: str, matrix_settings: Settings, migrated_engines: dict[str, Engine]
) -> FastAPI:
    """One app per backend: FastAPI builds a router's routes on its first request (~40 ms)."""
    return create_app(matrix_settings, engine=migrated_engines[matrix_backend])


@pytest.fixture(scope="module")
def matrix_client(matrix_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(matrix_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def case(
    matrix_world: World,
    world_state: dict[str, object],
    matrix_connection: Connection,
    matrix_app: FastAPI,
    matrix_client: TestClient,
) -> Iterator[Case]:
    savepoint = matrix_connection.begin_nested()
    factory = _session_factory(matrix_connection)
    # Later than the world, so that any change stamps a newer updated_at.
    clock, bus = FrozenClock(CASE_TIME), EventBus()
    state = matrix_app.state
    state.session_factory = state.read_session_factory = factory
    state.clock, state.bus = clock, bus
    matrix_client.cookies.clear()
    yield Case(
        world=matrix_world,
        client=matrix_client,
        connection=matrix_connection,
        make_uow=lambda: UnitOfWork(factory, bus=bus, clock=clock),
    )
    assert savepoint.is_active, "the case ended the transaction it ran in: the world is lost"
    savepoint.rollback()
    # The attachment store is shared (content-addressed): a successful upload stays in it.
    restored = fingerprint(matrix_connection)
    assert restored == world_state, _difference(world_state, restored, "the world was not restored")


@pytest.mark.parametrize(("row", "caller"), list(_cases()))
def test_matrix(row: Row, caller: Caller, case: Case) -> None:
    world, connection = case.world, case.connection
    if row.prepare is not None:
        with case.make_uow() as uow:
            row.prepare(world, uow)
            uow.commit()
    ids = {**world.path_params(), **row.ids(world)}
    url = row.path.format(slug=WEBHOOK_SLUG, **ids)
    headers = dict(world.headers[caller])
    if row.if_match:
        version = connection.scalar(select(Ticket.version).where(Ticket.id == ids["ticket_id"]))
        headers["If-Match"] = f'"{version}"'
    body = row.body(world, caller)
    # Bytes of their own, so that a refused upload leaving a file behind shows.
    content = PNG + f"{row.name()} {caller}".encode()
    files = {"file": ("photo.png", content, "image/png")} if row.upload else None
    expected = row.expect[caller]
    before = fingerprint(connection, world.attachments_dir) if expected >= 400 else None
    raw = json.dumps(body).encode() if row.signed else None
    if raw is not None:
        headers["Content-Type"] = "application/json"
        signed_at = int(CASE_TIME.timestamp())
        headers["X-Closeloop-Signature"] = signature_header(world.webhook_secret, signed_at, raw)

    response = case.client.request(
        row.method,
        url,
        headers=headers,
        params=row.query,
        json=body if raw is None else None,
        content=raw,
        files=files,
    )

    assert response.status_code == expected, (
        f"{row.name()} as {caller.value}: expected {expected}, got {response.status_code}: "
        f"{response.text[:500]}"
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        problem = response.json()
        assert problem["type"].startswith(PROBLEM_TYPE_PREFIX)
        assert problem["status"] == response.status_code
        after = fingerprint(connection, world.attachments_dir)
        assert after == before, _difference(before or {}, after, "a refusal changed something")
    elif row.check is not None:
        row.check(response, world, caller)


def _difference(before: Mapping[str, object], after: Mapping[str, object], what: str) -> str:
    changed = {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
    return f"{what}: {changed}"
