"""Admin pages for routing: rules (conditions -> actions, order, on/off), each team's assignment
strategy, the ping-pong settings, and the classifier (active model, accuracy, "train now").

Rules and strategies go through ``routing.service`` (audited). "Train now" asks for the
``routing.retrain_field`` job, which fits the model outside any transaction and stores it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from closeloop.accounts import management
from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.jobs.queue import enqueue
from closeloop.kit.i18n import _
from closeloop.routing import model_store
from closeloop.routing import service as routing
from closeloop.routing.domain import Strategy
from closeloop.routing.rules import FIELDS, MAX_CONDITIONS, MatchMode, Operator
from closeloop.routing.schemas import (
    RoutingSettingsUpdate,
    RuleCreate,
    RuleRead,
    RuleUpdate,
    TeamRoutingUpdate,
)
from closeloop.routing.tasks import RETRAIN_FIELD_TASK
from closeloop.tickets.domain import Priority, TicketType
from closeloop.web.admin.common import (
    FORM_ERRORS,
    FormValues,
    PageForm,
    area_context,
    form_errors,
    to_int,
    via,
)
from closeloop.web.admin.users import team_options
from closeloop.web.deps import CsrfChecked, PageAdmin, PageUow, render, see_other

router = APIRouter()

PATH = "/admin/routing"
_BLANK_ROWS = 2


# --- the overview -------------------------------------------------------------------------


def _overview(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    teams = management.list_teams(uow, actor=admin, is_active=True)
    strategies = {t.id: routing.team_routing(uow, team_id=t.id, actor=admin) for t in teams}
    settings = routing.read_settings(uow, actor=admin)
    return render(
        request,
        "admin/routing/index.html",
        area_context(
            "routing",
            rules=[RuleRead.of(r) for r in routing.list_rules(uow, actor=admin)],
            teams=teams,
            team_names={t.id: t.name for t in teams},
            strategies=strategies,
            strategy_options=list(Strategy),
            settings=settings,
            models=[(field, model_store.active_model(uow, field)) for field in model_store.FIELDS],
            errors=errors or [],
        ),
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def routing_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    return _overview(request, uow, admin)


@router.post(PATH + "/teams/{team_id:int}")
def set_team_strategy(
    request: Request,
    team_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    try:
        changes = TeamRoutingUpdate.model_validate(
            {"strategy": form.get("strategy"), "is_triage_team": form.flag("is_triage_team")}
        )
        routing.set_team_routing(
            uow, team_id=team_id, changes=changes, actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [{**e, "field": f"team-{team_id}"} for e in form_errors(error, admin.locale)]
        return _overview(request, uow, admin, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, PATH + "#teams", flash=_("Assignment strategy saved."))


@router.post(PATH + "/settings")
def update_settings(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    try:
        changes = RoutingSettingsUpdate.model_validate(
            {
                "ping_pong_threshold": to_int(form.get("ping_pong_threshold") or "0"),
                "escalation_team_id": to_int(form.get("escalation_team_id"))
                if form.get("escalation_team_id")
                else None,
                "move_ping_pong": form.flag("move_ping_pong"),
            }
        )
        routing.update_settings(uow, changes=changes, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [
            {**e, "field": e["field"] or "ping_pong_threshold"}
            for e in form_errors(error, admin.locale)
        ]
        return _overview(request, uow, admin, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, PATH + "#settings", flash=_("Routing settings saved."))


@router.post(PATH + "/classifier/train")
def train_now(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    """Ask for a retraining of one field now; the worker fits and stores the model."""
    field = form.get("field")
    if field in model_store.FIELDS:
        enqueue(uow, RETRAIN_FIELD_TASK, {"field": field})
        uow.commit()
    return see_other(
        request,
        PATH + "#classifier",
        flash=_("Training was requested; the new model appears here when the worker is done."),
    )


# --- rules --------------------------------------------------------------------------------


def _rule_values(rule: RuleRead | None) -> dict[str, Any]:
    if rule is None:
        return {"match": MatchMode.all.value, "is_active": True, "conditions": []}
    actions = rule.actions
    return {
        "name": rule.name,
        "match": rule.match.value,
        "is_active": rule.is_active,
        "conditions": [
            {
                "field": c.get("field", ""),
                "operator": c.get("operator", ""),
                "value": ", ".join(str(v) for v in c["value"])
                if isinstance(c.get("value"), list)
                else str(c.get("value", "")),
                "negate": bool(c.get("negate")),
            }
            for c in rule.conditions
        ],
        "type": actions.get("type") or "",
        "priority": actions.get("priority") or "",
        "team_id": str(actions.get("team_id") or ""),
        "add_tags": ", ".join(actions.get("add_tags", [])),
        "skills": {str(k): str(v) for k, v in (actions.get("required_skills") or {}).items()},
    }


def _rule_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    rule: RuleRead | None,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    rows = list(values.get("conditions", []))
    rows += [{"field": "", "operator": "", "value": "", "negate": False}] * _BLANK_ROWS
    return render(
        request,
        "admin/routing/rule.html",
        area_context(
            "routing",
            rule=rule,
            values=values,
            rows=rows[:MAX_CONDITIONS],
            errors=errors,
            fields=[*FIELDS, "custom.<key>"],
            operators=list(Operator),
            match_modes=list(MatchMode),
            types=list(TicketType),
            priorities=list(Priority),
            teams=team_options(uow, admin),
            skills=management.list_skills(uow, actor=admin),
        ),
        status_code=status_code,
    )


def _scalar(text: str) -> Any:
    return int(text) if text.isdigit() else text


def _posted_rule(form: FormValues) -> tuple[dict[str, Any], dict[str, Any]]:
    """What to show again, and what to validate."""
    rows: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    for index in range(MAX_CONDITIONS + _BLANK_ROWS):
        field = form.get(f"cond_field_{index}")
        operator = form.get(f"cond_operator_{index}")
        text = form.get(f"cond_value_{index}")
        negate = form.flag(f"cond_negate_{index}")
        if not (field or text):
            continue
        rows.append({"field": field, "operator": operator, "value": text, "negate": negate})
        parts = [p.strip() for p in text.split(",") if p.strip()]
        value: Any
        listed = operator == Operator.in_.value
        if listed or (operator == Operator.contains.value and len(parts) > 1):
            value = [_scalar(p) for p in parts]
        else:
            value = _scalar(text)
        conditions.append(
            {"field": field, "operator": operator or "equals", "value": value, "negate": negate}
        )
    values: dict[str, Any] = form.values("name", "match", "type", "priority", "team_id", "add_tags")
    values["is_active"] = form.flag("is_active")
    values["conditions"] = rows
    skills = {
        name[len("skill_") :]: form.get(name)
        for name in form.data
        if isinstance(name, str) and name.startswith("skill_")
    }
    values["skills"] = skills
    actions: dict[str, Any] = {
        "type": values["type"] or None,
        "priority": values["priority"] or None,
        "team_id": to_int(values["team_id"]) if values["team_id"] else None,
        "add_tags": [t.strip() for t in values["add_tags"].split(",") if t.strip()],
        "required_skills": {k: to_int(v) for k, v in skills.items() if v},
    }
    data = {
        "name": values["name"],
        "match": values["match"] or MatchMode.all.value,
        "is_active": values["is_active"],
        "conditions": conditions,
        "actions": actions,
    }
    return values, data


def _rule_errors(error: Exception, locale: str) -> list[dict[str, str]]:
    """``conditions.1.value`` -> the row's field names, so each error sits next to its row."""
    found = []
    for item in form_errors(error, locale):
        parts = item["field"].split(".")
        if parts[0] == "conditions" and len(parts) > 1 and parts[1].isdigit():
            item = {**item, "field": f"cond_{parts[1]}"}
        found.append(item)
    return found


@router.get(PATH + "/rules/new", response_class=HTMLResponse)
def new_rule(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    return _rule_page(request, uow, admin, rule=None, values=_rule_values(None), errors=[])


@router.post(PATH + "/rules")
def create_rule(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values, data = _posted_rule(form)
    try:
        created = routing.create_rule(
            uow, data=RuleCreate.model_validate(data), actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _rule_page(
            request,
            uow,
            admin,
            rule=None,
            values=values,
            errors=_rule_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/rules/{created.id}", flash=_("Rule created."))


@router.get(PATH + "/rules/{rule_id:int}", response_class=HTMLResponse)
def edit_rule(request: Request, rule_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    rule = RuleRead.of(routing.get_rule(uow, rule_id=rule_id, actor=admin))
    return _rule_page(request, uow, admin, rule=rule, values=_rule_values(rule), errors=[])


@router.post(PATH + "/rules/{rule_id:int}")
def update_rule(
    request: Request,
    rule_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    rule = RuleRead.of(routing.get_rule(uow, rule_id=rule_id, actor=admin))
    values, data = _posted_rule(form)
    try:
        routing.update_rule(
            uow,
            rule_id=rule_id,
            data=RuleUpdate.model_validate(data),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _rule_page(
            request,
            uow,
            admin,
            rule=rule,
            values=values,
            errors=_rule_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/rules/{rule_id}", flash=_("Rule saved."))


@router.post(PATH + "/rules/{rule_id:int}/toggle")
def toggle_rule(
    request: Request, rule_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    rule = routing.get_rule(uow, rule_id=rule_id, actor=admin)
    routing.update_rule(
        uow,
        rule_id=rule_id,
        data=RuleUpdate(is_active=not rule.is_active),
        actor=admin,
        via=via(request),
    )
    uow.commit()
    return see_other(request, PATH, flash=_("Rule saved."))


@router.post(PATH + "/rules/{rule_id:int}/move")
def move_rule(
    request: Request,
    rule_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    order = [r.id for r in routing.list_rules(uow, actor=admin)]
    index = order.index(rule_id) if rule_id in order else -1
    step = -1 if form.get("direction") == "up" else 1
    if index >= 0 and 0 <= index + step < len(order):
        order[index], order[index + step] = order[index + step], order[index]
        routing.reorder_rules(uow, rule_ids=order, actor=admin, via=via(request))
        uow.commit()
    return see_other(request, PATH, flash=_("Rule order saved."))


@router.post(PATH + "/rules/{rule_id:int}/delete")
def delete_rule(
    request: Request, rule_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    routing.delete_rule(uow, rule_id=rule_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH, flash=_("Rule deleted."))
