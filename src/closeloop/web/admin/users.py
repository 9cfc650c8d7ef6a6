"""Admin pages for people: agents (with teams and skill levels), teams, skills, API tokens.

Every change goes through ``accounts.management`` (permission, validation, audit trail).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from closeloop.accounts import management
from closeloop.accounts.domain import Principal, Role
from closeloop.accounts.schemas import (
    AgentCreate,
    AgentRead,
    AgentUpdate,
    ApiTokenCreate,
    PasswordChange,
    SkillCreate,
    SkillUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
)
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _
from closeloop.kit.pagination import MAX_PAGE_SIZE
from closeloop.web.admin.common import (
    FORM_ERRORS,
    NO_STORE,
    PageForm,
    area_context,
    form_errors,
    ids,
    via,
)
from closeloop.web.auth import time_zone_choices
from closeloop.web.deps import CsrfChecked, PageAdmin, PageUow, render, see_other

router = APIRouter()

SKILL_LEVELS = (1, 2, 3, 4, 5)
_AGENT_FIELDS = ("name", "email", "role", "locale", "time_zone")


def all_agents(uow: UnitOfWork, actor: Principal, *, active_only: bool = False) -> list[AgentRead]:
    """Every agent by name (admin pages list them whole)."""
    found: list[Any] = []
    cursor: str | None = None
    while True:
        page = management.list_agents(
            uow,
            actor=actor,
            is_active=True if active_only else None,
            cursor=cursor,
            limit=MAX_PAGE_SIZE,
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return management.present_agents(uow, found)


def all_teams(uow: UnitOfWork, actor: Principal, *, active_only: bool = False) -> list[TeamRead]:
    teams = management.list_teams(uow, actor=actor, is_active=True if active_only else None)
    return management.present_teams(uow, teams)


def team_options(uow: UnitOfWork, actor: Principal) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in all_teams(uow, actor, active_only=True)]


# --- agents -------------------------------------------------------------------------------


@router.get("/admin/agents", response_class=HTMLResponse)
def agents_page(
    request: Request, uow: PageUow, admin: PageAdmin, q: str = "", show: str = "active"
) -> HTMLResponse:
    agents = all_agents(uow, admin, active_only=show == "active")
    if q:
        needle = q.casefold()
        agents = [a for a in agents if needle in a.name.casefold() or needle in a.email]
    teams = {t.id: t.name for t in all_teams(uow, admin)}
    return render(
        request,
        "admin/agents/list.html",
        area_context("agents", agents=agents, team_names=teams, q=q, show=show),
    )


def _agent_form(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    agent: AgentRead | None,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/agents/form.html",
        area_context(
            "agents",
            agent=agent,
            values=values,
            errors=errors,
            roles=[(r.value, r.value) for r in Role],
            teams=team_options(uow, admin),
            skills=management.list_skills(uow, actor=admin),
            levels=SKILL_LEVELS,
            time_zones=time_zone_choices(),
        ),
        status_code=status_code,
    )


def _agent_values(agent: AgentRead) -> dict[str, Any]:
    return {
        "name": agent.name,
        "email": agent.email,
        "role": agent.role.value,
        "locale": agent.locale,
        "time_zone": agent.time_zone,
        "is_senior": agent.is_senior,
        "is_active": agent.is_active,
        "team_ids": [str(t) for t in agent.team_ids],
        "skills": {str(s.skill_id): str(s.level) for s in agent.skills},
    }


def _posted_agent(form: Any, skill_ids: Sequence[int]) -> dict[str, Any]:
    values: dict[str, Any] = form.values(*_AGENT_FIELDS)
    values["is_senior"] = form.flag("is_senior")
    values["is_active"] = form.flag("is_active")
    values["team_ids"] = form.getlist("team_ids")
    values["skills"] = {str(s): form.get(f"skill_{s}") for s in skill_ids}
    return values


def _apply_teams_and_skills(
    uow: UnitOfWork,
    admin: Principal,
    request: Request,
    *,
    agent_id: int,
    values: dict[str, Any],
    current_teams: Sequence[int],
    current_skills: dict[int, int],
) -> None:
    wanted = set(ids(values["team_ids"]))
    for team_id in sorted(wanted - set(current_teams)):
        management.add_team_member(
            uow, team_id=team_id, agent_id=agent_id, actor=admin, via=via(request)
        )
    for team_id in sorted(set(current_teams) - wanted):
        management.remove_team_member(
            uow, team_id=team_id, agent_id=agent_id, actor=admin, via=via(request)
        )
    for skill_key, level_text in values["skills"].items():
        skill_id = int(skill_key)
        if level_text:
            level = int(level_text) if level_text.isdigit() else 0
            if current_skills.get(skill_id) != level:
                management.set_agent_skill(
                    uow,
                    agent_id=agent_id,
                    skill_id=skill_id,
                    level=level,
                    actor=admin,
                    via=via(request),
                )
        elif skill_id in current_skills:
            management.remove_agent_skill(
                uow, agent_id=agent_id, skill_id=skill_id, actor=admin, via=via(request)
            )


@router.get("/admin/agents/new", response_class=HTMLResponse)
def new_agent(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    values = {"role": Role.agent.value, "locale": "", "time_zone": "", "is_active": True}
    return _agent_form(request, uow, admin, agent=None, values=values, errors=[])


@router.post("/admin/agents")
def create_agent(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    skill_ids = [s.id for s in management.list_skills(uow, actor=admin)]
    values = _posted_agent(form, skill_ids)
    password = form.raw("password")
    try:
        data = AgentCreate(
            name=values["name"],
            email=values["email"],
            role=values["role"] or Role.agent.value,
            password=password,
            locale=values["locale"] or None,
            time_zone=values["time_zone"] or None,
            is_senior=values["is_senior"],
        )
        agent = management.create_agent(
            uow,
            name=data.name,
            email=data.email,
            role=data.role,
            password=data.password,
            locale=data.locale,
            time_zone=data.time_zone,
            is_senior=data.is_senior,
            actor=admin,
            via=via(request),
        )
        _apply_teams_and_skills(
            uow,
            admin,
            request,
            agent_id=agent.id,
            values=values,
            current_teams=[],
            current_skills={},
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field=_field_of(error))
        return _agent_form(
            request, uow, admin, agent=None, values=values, errors=errors, status_code=422
        )
    uow.commit()
    return see_other(
        request,
        f"/admin/agents/{agent.id}",
        flash=_("Agent created. Give them the temporary password; they can change it."),
    )


def _field_of(error: Exception) -> str:
    """Where a business error without fields belongs on the agent form."""
    code = getattr(error, "code", "")
    for hint, field in (
        ("email", "email"),
        ("identity", "email"),
        ("password", "password"),
        ("time_zone", "time_zone"),
        ("locale", "locale"),
        ("admin", "role"),
        ("skill", "skills"),
        ("lead", "team_ids"),
    ):
        if hint in code:
            return field
    return ""


def _load_agent(uow: UnitOfWork, admin: Principal, agent_id: int) -> AgentRead:
    agent = management.get_agent(uow, agent_id=agent_id, actor=admin)
    return management.present_agents(uow, [agent])[0]


@router.get("/admin/agents/{agent_id:int}", response_class=HTMLResponse)
def edit_agent(request: Request, agent_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    agent = _load_agent(uow, admin, agent_id)
    return _agent_form(request, uow, admin, agent=agent, values=_agent_values(agent), errors=[])


@router.post("/admin/agents/{agent_id:int}")
def update_agent(
    request: Request,
    agent_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    agent = _load_agent(uow, admin, agent_id)
    values = _posted_agent(form, [s.id for s in management.list_skills(uow, actor=admin)])
    try:
        changes = AgentUpdate(
            name=values["name"],
            email=values["email"],
            role=values["role"],
            locale=values["locale"],
            time_zone=values["time_zone"],
            is_active=values["is_active"],
            is_senior=values["is_senior"],
        )
        management.update_agent(
            uow, agent_id=agent_id, changes=changes, actor=admin, via=via(request)
        )
        _apply_teams_and_skills(
            uow,
            admin,
            request,
            agent_id=agent_id,
            values=values,
            current_teams=agent.team_ids,
            current_skills={s.skill_id: s.level for s in agent.skills},
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field=_field_of(error))
        return _agent_form(
            request, uow, admin, agent=agent, values=values, errors=errors, status_code=422
        )
    uow.commit()
    return see_other(request, f"/admin/agents/{agent_id}", flash=_("Agent saved."))


@router.post("/admin/agents/{agent_id:int}/password")
def reset_password(
    request: Request,
    agent_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    agent = _load_agent(uow, admin, agent_id)
    try:
        data = PasswordChange(new_password=form.raw("new_password"))
        management.change_password(
            uow,
            agent_id=agent_id,
            new_password=data.new_password,
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="new_password")
        for item in errors:
            item["field"] = "new_password"
        return _agent_form(
            request,
            uow,
            admin,
            agent=agent,
            values=_agent_values(agent),
            errors=errors,
            status_code=422,
        )
    uow.commit()
    return see_other(
        request,
        f"/admin/agents/{agent_id}",
        flash=_("Temporary password set. The agent's sessions were signed out."),
    )


@router.post("/admin/agents/{agent_id:int}/deactivate")
def deactivate_agent(
    request: Request, agent_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    try:
        management.deactivate_agent(uow, agent_id=agent_id, actor=admin, via=via(request))
    except DomainError as error:
        uow.rollback()
        agent = _load_agent(uow, admin, agent_id)
        errors = form_errors(error, admin.locale)
        return _agent_form(
            request,
            uow,
            admin,
            agent=agent,
            values=_agent_values(agent),
            errors=errors,
            status_code=409,
        )
    uow.commit()
    return see_other(
        request, "/admin/agents", flash=_("Agent deactivated. Their tokens and sessions ended.")
    )


# --- teams --------------------------------------------------------------------------------

_TEAM_FIELDS = ("name", "description", "email", "lead_id")


def _teams_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    agents = all_agents(uow, admin)
    return render(
        request,
        "admin/teams/list.html",
        area_context(
            "teams",
            teams=all_teams(uow, admin),
            agent_names={a.id: a.name for a in agents},
            agent_options=[(a.id, f"{a.name} <{a.email}>") for a in agents if a.is_active],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


@router.get("/admin/teams", response_class=HTMLResponse)
def teams_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    return _teams_page(request, uow, admin, values={}, errors=[])


@router.post("/admin/teams")
def create_team(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values = form.values(*_TEAM_FIELDS)
    try:
        data = TeamCreate(
            name=values["name"],
            description=values["description"],
            email=values["email"] or None,
            lead_id=values["lead_id"] or None,
        )
        management.create_team(
            uow,
            name=data.name,
            description=data.description,
            email=data.email,
            lead_id=data.lead_id,
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field=_team_field(error))
        return _teams_page(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, "/admin/teams", flash=_("Team created."))


def _team_field(error: Exception) -> str:
    code = getattr(error, "code", "")
    if "name" in code:
        return "name"
    if "email" in code or "identity" in code:
        return "email"
    if "lead" in code or "agent" in code:
        return "lead_id"
    return ""


def _team_form(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    team: TeamRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    agents = all_agents(uow, admin)
    return render(
        request,
        "admin/teams/form.html",
        area_context(
            "teams",
            team=team,
            agent_options=[
                (a.id, f"{a.name} <{a.email}>")
                for a in agents
                if a.is_active or a.id in team.member_ids
            ],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


def _load_team(uow: UnitOfWork, admin: Principal, team_id: int) -> TeamRead:
    return management.present_teams(uow, [management.get_team(uow, team_id=team_id, actor=admin)])[
        0
    ]


@router.get("/admin/teams/{team_id:int}", response_class=HTMLResponse)
def edit_team(request: Request, team_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    team = _load_team(uow, admin, team_id)
    values = {
        "name": team.name,
        "description": team.description,
        "email": team.email or "",
        "lead_id": str(team.lead_id or ""),
        "is_active": team.is_active,
        "member_ids": [str(m) for m in team.member_ids],
    }
    return _team_form(request, uow, admin, team, values=values, errors=[])


@router.post("/admin/teams/{team_id:int}")
def update_team(
    request: Request,
    team_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    team = _load_team(uow, admin, team_id)
    values: dict[str, Any] = form.values(*_TEAM_FIELDS)
    values["is_active"] = form.flag("is_active")
    values["member_ids"] = form.getlist("member_ids")
    try:
        changes = TeamUpdate(
            name=values["name"],
            description=values["description"],
            email=values["email"] or None,
            lead_id=values["lead_id"] or None,
            is_active=values["is_active"],
        )
        management.update_team(uow, team_id=team_id, changes=changes, actor=admin, via=via(request))
        wanted = set(ids(values["member_ids"]))
        if changes.lead_id is not None:
            wanted.add(changes.lead_id)
        for agent_id in sorted(wanted - set(team.member_ids)):
            management.add_team_member(
                uow, team_id=team_id, agent_id=agent_id, actor=admin, via=via(request)
            )
        for agent_id in sorted(set(team.member_ids) - wanted):
            management.remove_team_member(
                uow, team_id=team_id, agent_id=agent_id, actor=admin, via=via(request)
            )
    except FORM_ERRORS as error:
        uow.rollback()
        field = "member_ids" if getattr(error, "code", "").endswith("lead_not_removable") else ""
        errors = form_errors(error, admin.locale, field=field or _team_field(error))
        return _team_form(request, uow, admin, team, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, f"/admin/teams/{team_id}", flash=_("Team saved."))


@router.post("/admin/teams/{team_id:int}/deactivate")
def deactivate_team(
    request: Request, team_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    management.deactivate_team(uow, team_id=team_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, "/admin/teams", flash=_("Team deactivated."))


# --- skills -------------------------------------------------------------------------------


def _skills_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    editing: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/skills.html",
        area_context(
            "skills",
            skills=management.list_skills(uow, actor=admin),
            values=values,
            errors=errors,
            editing=editing,
        ),
        status_code=status_code,
    )


@router.get("/admin/skills", response_class=HTMLResponse)
def skills_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    return _skills_page(request, uow, admin, values={}, errors=[])


@router.post("/admin/skills")
def create_skill(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values = form.values("name", "description")
    try:
        data = SkillCreate(**values)
        management.create_skill(
            uow, name=data.name, description=data.description, actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="name")
        return _skills_page(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, "/admin/skills", flash=_("Skill created."))


@router.post("/admin/skills/{skill_id:int}")
def update_skill(
    request: Request,
    skill_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    values = form.values("name", "description")
    try:
        changes = SkillUpdate(**values)
        management.update_skill(
            uow, skill_id=skill_id, changes=changes, actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [
            {**e, "field": f"skill-{skill_id}.{e['field'] or 'name'}"}
            for e in form_errors(error, admin.locale, field="name")
        ]
        return _skills_page(
            request,
            uow,
            admin,
            values={f"skill-{skill_id}": values},
            errors=errors,
            editing=skill_id,
            status_code=422,
        )
    uow.commit()
    return see_other(request, "/admin/skills", flash=_("Skill saved."))


@router.post("/admin/skills/{skill_id:int}/delete")
def delete_skill(
    request: Request, skill_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    management.delete_skill(uow, skill_id=skill_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, "/admin/skills", flash=_("Skill deleted."))


# --- API tokens ---------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    created: tuple[Any, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    agents = all_agents(uow, admin, active_only=True)
    rows = [
        (agent, token)
        for agent in agents
        for token in management.list_api_tokens(uow, actor=admin, agent_id=agent.id)
    ]
    return render(
        request,
        "admin/api_tokens.html",
        area_context(
            "api-tokens",
            rows=rows,
            agent_options=[(a.email, f"{a.name} <{a.email}>") for a in agents],
            values=values,
            errors=errors,
            created=created,
        ),
        status_code=status_code,
        headers=headers,
    )


@router.get("/admin/api-tokens", response_class=HTMLResponse)
def tokens_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    agent = management.get_agent(uow, agent_id=admin.id or 0, actor=admin)
    return _tokens_page(request, uow, admin, values={"email": agent.email}, errors=[])


def _expiry(text: str, time_zone: str) -> datetime | str | None:
    """The end of the chosen day in the admin's time zone."""
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text).date()
    except ValueError:
        return text
    return datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(time_zone))


@router.post("/admin/api-tokens")
def create_token(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values = form.values("email", "name", "expires_on")
    try:
        data = ApiTokenCreate.model_validate(
            {
                "name": values["name"],
                "email": values["email"] or None,
                "expires_at": _expiry(values["expires_on"], admin.time_zone),
            }
        )
        token, secret = management.issue_api_token(
            uow,
            actor=admin,
            via=via(request),
            name=data.name,
            expires_at=data.expires_at,
            email=data.email,
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="email")
        for item in errors:
            if item["field"] == "expires_at":
                item["field"] = "expires_on"
        return _tokens_page(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    # Shown in this answer only: no redirect (the secret would have to be stored to show later).
    return _tokens_page(
        request,
        uow,
        admin,
        values={"email": values["email"]},
        errors=[],
        created=(token, secret),
        status_code=201,
        headers=NO_STORE,
    )


@router.post("/admin/api-tokens/{token_id:int}/revoke")
def revoke_token(
    request: Request, token_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    management.revoke_api_token(uow, token_id=token_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, "/admin/api-tokens", flash=_("Token revoked."))


__all__ = ["all_agents", "all_teams", "router", "team_options"]
