"""Admin pages for people: agents, teams, skills and API tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.accounts.models import Agent, ApiToken, Skill, Team
from closeloop.db.session import UnitOfWork
from tests.builders import make_agent, make_skill, make_team
from tests.web.admin_world import admin, admin_client, assert_admin_only, refused_csrf
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client"]

PAGES = ["/admin", "/admin/agents", "/admin/agents/new", "/admin/teams", "/admin/skills",
         "/admin/api-tokens"]  # fmt: skip


def test_only_admins_see_the_people_pages(
    admin_client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    for path in PAGES:
        assert admin_client.get(path).status_code == 200, path
    assert_admin_only(admin_client, uow, signed_in, PAGES)


def test_the_index_and_the_side_navigation_link_every_area(admin_client: TestClient) -> None:
    page = admin_client.get("/admin").text
    for href in ("/admin/agents", "/admin/teams", "/admin/skills", "/admin/api-tokens",
                 "/admin/custom-fields", "/admin/canned-responses", "/admin/sla",
                 "/admin/routing", "/admin/channels"):  # fmt: skip
        assert f'href="{href}"' in page
    assert "data-admin-nav" in page


def test_an_agent_without_admin_rights_has_no_admin_navigation(
    client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    agent = make_agent(uow)
    uow.commit()
    signed_in(client, agent)
    assert "data-admin-nav" not in client.get("/agent/tickets").text


def test_an_admin_creates_an_agent_with_teams_and_skills(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    team = make_team(uow, name="Network")
    skill = make_skill(uow, name="VPN")
    uow.commit()
    answer = admin_client.post(
        "/admin/agents",
        data={
            "name": "Zhang Wei",
            "email": "zhang.wei@example.com",
            "role": "supervisor",
            "password": "a temporary password",
            "locale": "zh_CN",
            "time_zone": "Asia/Shanghai",
            "is_senior": "1",
            "team_ids": [str(team.id)],
            f"skill_{skill.id}": "4",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    created = accounts.find_agent_by_email(uow, "zhang.wei@example.com")
    assert created is not None
    assert (created.role, created.is_senior, created.time_zone) == (
        "supervisor",
        True,
        "Asia/Shanghai",
    )
    read = management.present_agents(uow, [created])[0]
    assert read.team_ids == [team.id]
    assert [(s.skill_id, s.level) for s in read.skills] == [(skill.id, 4)]
    assert (
        accounts.authenticate_password(
            uow, email="zhang.wei@example.com", password="a temporary password"
        ).id
        == created.id
    )
    page = admin_client.get(answer.headers["location"]).text
    assert "Agent created" in page
    assert "Zhang Wei" in page


def test_a_refused_agent_form_keeps_the_values_and_says_why(
    admin_client: TestClient, uow: UnitOfWork, admin: Agent
) -> None:
    answer = admin_client.post(
        "/admin/agents",
        data={
            "name": "Kept Name",
            "email": admin.email,
            "role": "agent",
            "password": "secret pw 1",
        },
    )
    assert answer.status_code == 422
    assert 'value="Kept Name"' in answer.text
    assert "already exists" in answer.text
    assert "secret pw 1" not in answer.text  # passwords are never sent back
    answer = admin_client.post(
        "/admin/agents",
        data={"name": "", "email": "x@example.com", "role": "agent", "password": "p"},
    )
    assert answer.status_code == 422
    assert "This field is required." in answer.text
    assert 'value="x@example.com"' in answer.text
    assert accounts.find_agent_by_email(uow, "x@example.com") is None


def test_an_admin_edits_and_deactivates_an_agent(admin_client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="Billing")
    agent = make_agent(uow, name="Old Name")
    skill = make_skill(uow, name="Invoices")
    management.set_agent_skill(
        uow, agent_id=agent.id, skill_id=skill.id, level=2, actor=SYSTEM, via="t"
    )
    uow.commit()
    assert 'value="Old Name"' in admin_client.get(f"/admin/agents/{agent.id}").text
    answer = admin_client.post(
        f"/admin/agents/{agent.id}",
        data={
            "name": "New Name",
            "email": agent.email,
            "role": "agent",
            "locale": "en",
            "time_zone": "Europe/Berlin",
            "is_active": "1",
            "team_ids": [str(team.id)],
            f"skill_{skill.id}": "",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    uow.session.expire_all()
    read = management.present_agents(
        uow, [management.get_agent(uow, agent_id=agent.id, actor=SYSTEM)]
    )[0]
    assert (read.name, read.time_zone, read.team_ids, read.skills) == (
        "New Name", "Europe/Berlin", [team.id], []
    )  # fmt: skip
    answer = admin_client.post(f"/admin/agents/{agent.id}/deactivate", follow_redirects=False)
    assert answer.status_code == 303
    uow.session.expire_all()
    assert uow.session.get(Agent, agent.id).is_active is False  # type: ignore[union-attr]


def test_a_refused_csrf_token_changes_nothing(admin_client: TestClient, uow: UnitOfWork) -> None:
    agent = make_agent(uow, name="Stays")
    uow.commit()
    refused_csrf(
        admin_client,
        "/admin/agents",
        {"name": "X", "email": "new@example.com", "role": "agent", "password": "pw pw pw"},
    )
    refused_csrf(admin_client, f"/admin/agents/{agent.id}/deactivate", {})
    refused_csrf(admin_client, "/admin/teams", {"name": "Sneaky"})
    refused_csrf(admin_client, "/admin/skills", {"name": "Sneaky"})
    refused_csrf(admin_client, "/admin/api-tokens", {"name": "Sneaky"})
    uow.session.expire_all()
    assert accounts.find_agent_by_email(uow, "new@example.com") is None
    assert uow.session.get(Agent, agent.id).is_active  # type: ignore[union-attr]
    assert uow.session.scalar(select(Team).where(Team.name == "Sneaky")) is None
    assert uow.session.scalar(select(Skill).where(Skill.name == "Sneaky")) is None
    assert uow.session.scalar(select(ApiToken).where(ApiToken.name == "Sneaky")) is None


def test_an_admin_creates_a_team_with_a_lead_and_changes_its_members(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    lead = make_agent(uow, name="Lead Lin")
    member = make_agent(uow, name="Member Ma")
    uow.commit()
    answer = admin_client.post(
        "/admin/teams", data={"name": "Hardware", "lead_id": str(lead.id)}, follow_redirects=False
    )
    assert answer.status_code == 303
    team = uow.session.scalar(select(Team).where(Team.name == "Hardware"))
    assert team is not None
    assert team.lead_id == lead.id
    assert "Hardware" in admin_client.get("/admin/teams").text
    answer = admin_client.post(
        f"/admin/teams/{team.id}",
        data={
            "name": "Hardware desk",
            "lead_id": str(lead.id),
            "is_active": "1",
            "member_ids": [str(lead.id), str(member.id)],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    uow.session.expire_all()
    read = management.present_teams(uow, [management.get_team(uow, team_id=team.id, actor=SYSTEM)])[
        0
    ]
    assert (read.name, read.member_ids) == ("Hardware desk", sorted([lead.id, member.id]))
    duplicate = admin_client.post(
        "/admin/teams", data={"name": "Hardware desk", "description": "kept"}
    )
    assert duplicate.status_code == 422
    assert "kept" in duplicate.text


def test_skills_are_created_renamed_and_deleted(admin_client: TestClient, uow: UnitOfWork) -> None:
    assert (
        admin_client.post(
            "/admin/skills", data={"name": "Printers"}, follow_redirects=False
        ).status_code
        == 303
    )
    skill = uow.session.scalar(select(Skill).where(Skill.name == "Printers"))
    assert skill is not None
    skill_id = skill.id
    refused = admin_client.post(f"/admin/skills/{skill_id}", data={"name": ""})
    assert refused.status_code == 422
    assert "This field is required." in refused.text
    assert (
        admin_client.post(
            f"/admin/skills/{skill_id}", data={"name": "Printing"}, follow_redirects=False
        ).status_code
        == 303
    )
    uow.session.expire_all()
    assert uow.session.get(Skill, skill_id).name == "Printing"  # type: ignore[union-attr]
    assert (
        admin_client.post(f"/admin/skills/{skill_id}/delete", follow_redirects=False).status_code
        == 303
    )
    uow.session.expire_all()
    assert uow.session.get(Skill, skill_id) is None


def test_an_api_token_is_shown_once_then_only_its_prefix(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    agent = make_agent(uow, name="Script Owner", role=Role.agent)
    uow.commit()
    answer = admin_client.post("/admin/api-tokens", data={"email": agent.email, "name": "export"})
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    token = uow.session.scalar(select(ApiToken).where(ApiToken.name == "export"))
    assert token is not None
    assert token.agent_id == agent.id
    secret = (
        answer.text.split('id="secret-value" class="mono"')[0].rsplit('value="', 1)[1].split('"')[0]
    )
    assert secret.startswith(token.display_prefix)
    assert accounts.principal_for_token(uow, secret) is not None
    listing = admin_client.get("/admin/api-tokens").text
    assert secret not in listing
    assert token.display_prefix in listing
    assert (
        admin_client.post(
            f"/admin/api-tokens/{token.id}/revoke", follow_redirects=False
        ).status_code
        == 303
    )
    uow.session.expire_all()
    assert uow.session.get(ApiToken, token.id).revoked_at is not None  # type: ignore[union-attr]


def test_every_admin_page_reads_in_chinese(
    client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    chinese = make_agent(uow, role=Role.admin, name="管理员")  # agents read zh_CN by default
    uow.commit()
    signed_in(client, chinese)
    for path in ("/admin", "/admin/agents", "/admin/agents/new", "/admin/teams", "/admin/skills",
                 "/admin/api-tokens", "/admin/custom-fields", "/admin/canned-responses",
                 "/admin/sla", "/admin/routing", "/admin/channels", "/admin/channels/mailboxes",
                 "/admin/channels/wechat", "/admin/channels/webhooks", "/admin/channels/crm",
                 "/admin/channels/quarantine"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'lang="zh-CN"' in page.text
