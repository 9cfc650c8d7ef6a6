"""The accounts API: who may call what, and a refused call changes nothing.

Roles: a customer, an agent who leads a team, a supervisor, an admin. A record the caller may
not see answers 404 like a missing one; an action their role may not take answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.builders import bearer, make_agent, make_company, make_customer, make_skill

from closeloop.accounts import management
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.db.session import UnitOfWork

Snapshot = dict[str, list[tuple[Any, ...]]]
ROLES = ("customer", "agent", "supervisor", "admin")
# Every table a management call could touch; for API tokens not last_used_at, which any
# authenticated request may refresh.
SNAPSHOT_QUERIES = {
    table: f"SELECT * FROM {table} ORDER BY 1, 2"
    for table in (
        "organisations",
        "agents",
        "teams",
        "team_memberships",
        "skills",
        "agent_skills",
        "companies",
        "customers",
        "customer_identities",
        "login_sessions",
        "audit_events",
        "idempotency_records",
    )
} | {"api_tokens": "SELECT id, agent_id, customer_id, revoked_at FROM api_tokens ORDER BY id"}


def expect(customer: int, agent: int, supervisor: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (customer, agent, supervisor, admin), strict=True))


@dataclass(frozen=True)
class World:
    ids: dict[str, int]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def snapshot(make_uow: Callable[[], UnitOfWork]) -> Callable[[], Snapshot]:
    """Every row of the accounts tables, read through a fresh unit of work."""

    def take() -> Snapshot:
        with make_uow() as fresh:
            return {
                table: [tuple(row) for row in fresh.session.execute(text(query))]
                for table, query in SNAPSHOT_QUERIES.items()
            }

    return take


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    """An admin, a supervisor, a team lead (role agent), a member of that team with a skill,
    two customers and a company nobody belongs to."""
    admin = make_agent(uow, role=Role.admin, password=None)
    supervisor = make_agent(uow, role=Role.supervisor, password=None)
    lead = make_agent(uow, password=None)
    member = make_agent(uow, email="member@example.com", password=None)
    team = management.create_team(uow, name="Hardware", lead_id=lead.id, actor=SYSTEM, via="t")
    management.add_team_member(uow, team_id=team.id, agent_id=member.id, actor=SYSTEM, via="t")
    skill = make_skill(uow, name="Printers")
    management.set_agent_skill(
        uow, agent_id=member.id, skill_id=skill.id, level=2, actor=SYSTEM, via="t"
    )
    customer = make_customer(uow, email="caller@example.cn")
    other = make_customer(uow, email="other@example.cn")
    company = make_company(uow, name="Empty Inc")
    headers = {
        "anonymous": {},
        "customer": bearer(uow, "caller@example.cn"),
        "agent": bearer(uow, lead.email),
        "supervisor": bearer(uow, supervisor.email),
        "admin": bearer(uow, admin.email),
    }
    uow.commit()
    ids = {
        "admin": admin.id,
        "member": member.id,
        "team": team.id,
        "skill": skill.id,
        "customer": customer.id,
        "other": other.id,
        "company": company.id,
    }
    return World(ids=ids, headers=headers)


ENDPOINTS: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("list_agents", "GET", "/agents", None, expect(403, 200, 200, 200)),
    (
        "create_agent",
        "POST",
        "/agents",
        {"name": "N", "email": "n@x.cn"},
        expect(403, 403, 403, 201),
    ),
    ("get_agent", "GET", "/agents/{member}", None, expect(404, 200, 200, 200)),
    ("update_agent", "PATCH", "/agents/{member}", {"is_senior": True}, expect(404, 403, 403, 200)),
    (
        "reset_password",
        "POST",
        "/agents/{member}/password",
        {"new_password": "a brand new secret"},
        expect(404, 403, 403, 204),
    ),
    ("list_agent_skills", "GET", "/agents/{member}/skills", None, expect(404, 200, 200, 200)),
    ("get_agent_skill", "GET", "/agents/{member}/skills/{skill}", None, expect(404, 200, 200, 200)),
    (
        "set_agent_skill",
        "PUT",
        "/agents/{member}/skills/{skill}",
        {"level": 5},
        expect(404, 403, 403, 200),
    ),
    (
        "remove_agent_skill",
        "DELETE",
        "/agents/{member}/skills/{skill}",
        None,
        expect(404, 403, 403, 204),
    ),
    ("list_teams", "GET", "/teams", None, expect(403, 200, 200, 200)),
    ("create_team", "POST", "/teams", {"name": "Network"}, expect(403, 403, 403, 201)),
    ("get_team", "GET", "/teams/{team}", None, expect(404, 200, 200, 200)),
    ("update_own_team", "PATCH", "/teams/{team}", {"name": "Mine"}, expect(404, 403, 403, 200)),
    ("deactivate_team", "DELETE", "/teams/{team}", None, expect(404, 403, 403, 204)),
    ("add_member", "PUT", "/teams/{team}/members/{admin}", None, expect(404, 403, 403, 200)),
    (
        "remove_member",
        "DELETE",
        "/teams/{team}/members/{member}",
        None,
        expect(404, 403, 403, 204),
    ),
    ("list_skills", "GET", "/skills", None, expect(403, 200, 200, 200)),
    ("create_skill", "POST", "/skills", {"name": "VPN"}, expect(403, 403, 403, 201)),
    ("get_skill", "GET", "/skills/{skill}", None, expect(404, 200, 200, 200)),
    ("update_skill", "PATCH", "/skills/{skill}", {"description": "x"}, expect(404, 403, 403, 200)),
    ("delete_skill", "DELETE", "/skills/{skill}", None, expect(404, 403, 403, 204)),
    ("list_customers", "GET", "/customers", None, expect(403, 200, 200, 200)),
    (
        "create_customer",
        "POST",
        "/customers",
        {"name": "New", "emails": ["new@example.cn"]},
        expect(403, 201, 201, 201),
    ),
    ("get_other_customer", "GET", "/customers/{other}", None, expect(404, 200, 200, 200)),
    (
        "update_other_customer",
        "PATCH",
        "/customers/{other}",
        {"name": "Renamed"},
        expect(404, 200, 200, 200),
    ),
    (
        "add_identity_to_other",
        "POST",
        "/customers/{other}/identities",
        {"kind": "phone", "value": "13800138000"},
        expect(404, 201, 201, 201),
    ),
    (
        "add_identity_to_self",
        "POST",
        "/customers/{customer}/identities",
        {"kind": "email", "value": "claimed@example.cn"},
        expect(403, 201, 201, 201),
    ),
    (
        "raise_own_tier",
        "PATCH",
        "/customers/{customer}",
        {"tier": "vip"},
        expect(403, 200, 200, 200),
    ),
    ("list_companies", "GET", "/companies", None, expect(403, 200, 200, 200)),
    ("create_company", "POST", "/companies", {"name": "Acme"}, expect(403, 201, 201, 201)),
    ("get_company", "GET", "/companies/{company}", None, expect(404, 200, 200, 200)),
    (
        "update_company",
        "PATCH",
        "/companies/{company}",
        {"tier": "vip"},
        expect(404, 200, 200, 200),
    ),
    ("delete_company", "DELETE", "/companies/{company}", None, expect(404, 204, 204, 204)),
    ("get_organisation", "GET", "/organisation", None, expect(403, 200, 200, 200)),
    ("update_organisation", "PATCH", "/organisation", {"name": "X"}, expect(403, 403, 403, 200)),
    ("list_own_tokens", "GET", "/api-tokens", None, expect(200, 200, 200, 200)),
    ("create_own_token", "POST", "/api-tokens", {"name": "CI"}, expect(403, 201, 201, 201)),
    (
        "list_member_tokens",
        "GET",
        "/api-tokens?agent_id={member}",
        None,
        expect(403, 403, 403, 200),
    ),
    (
        "create_member_token",
        "POST",
        "/api-tokens",
        {"email": "member@example.com"},
        expect(403, 403, 403, 201),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [pytest.param(*case[1:], id=f"{case[0]}_case") for case in ENDPOINTS],
)
def test_authorisation_matrix(
    client: TestClient,
    world: World,
    snapshot: Callable[[], Snapshot],
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    before = snapshot()
    response = client.request(
        method, "/api/v1" + path.format(**world.ids), json=body, headers=world.headers[role]
    )
    assert response.status_code == expected[role], response.text
    if response.status_code < 400:
        # The snapshot sees what the request committed (so "unchanged" below means something).
        assert (snapshot() == before) is (method == "GET")
        return
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == expected[role]
    assert problem["type"] == f"urn:closeloop:problem:{problem['code']}"
    if expected[role] == 403:
        assert problem["code"] == "permission_denied"
    else:
        assert problem["code"].endswith("not_found")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/agents", id="agents_case"),
        pytest.param("POST", "/teams", id="teams_case"),
        pytest.param("GET", "/customers", id="customers_case"),
        pytest.param("GET", "/organisation", id="organisation_case"),
        pytest.param("GET", "/api-tokens", id="tokens_case"),
    ],
)
def test_anonymous_callers_must_authenticate(
    client: TestClient, world: World, method: str, path: str
) -> None:
    response = client.request(method, "/api/v1" + path, json={"name": "x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:closeloop:problem:auth.required"
