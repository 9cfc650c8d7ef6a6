"""Admin pages for SLA: business calendars (hours, holidays, the bundled CN schedule), policies
(conditions, targets per priority, warnings, paused statuses, escalation ladder, order,
enabled), and a dry run of which policy a ticket gets.

Every change goes through ``sla.service``, which audits it and asks for the open tickets'
clocks to be recomputed in the background.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from closeloop.accounts.domain import CustomerTier, Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.kit.i18n import _
from closeloop.kit.ids import parse_ticket_number
from closeloop.sla import service as sla
from closeloop.sla.clock import TargetKind
from closeloop.sla.domain import PRESETS, WEEKDAY_KEYS, DayKind, EscalationAction
from closeloop.sla.schemas import (
    CalendarCreate,
    CalendarDayCreate,
    CalendarRead,
    CalendarUpdate,
    EscalationStepIn,
    MatchRead,
    MatchRequest,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)
from closeloop.tickets.domain import Channel, Priority, TicketType
from closeloop.web.admin.common import (
    FORM_ERRORS,
    FormValues,
    PageForm,
    area_context,
    field_error,
    form_errors,
    to_int,
    via,
)
from closeloop.web.admin.users import team_options
from closeloop.web.auth import time_zone_choices
from closeloop.web.deps import CsrfChecked, PageAdmin, PageUow, render, see_other

router = APIRouter()

PATH = "/admin/sla"
_CONDITION_LISTS = ("priorities", "types", "channels", "customer_tiers", "team_ids")
_POLICY_FIELDS = (
    "name",
    "calendar_id",
    "conditions",
    *_CONDITION_LISTS,
    "tags",
    "company_ids",
    "warning_fractions",
    "paused_statuses",
    *(f"paused_{k.value}" for k in TargetKind),
    *(f"target_{p.value}_{k.value}" for p in Priority for k in TargetKind),
)


# --- the overview -------------------------------------------------------------------------


def _overview(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    match: MatchRead | None = None,
    ticket: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    calendars = sla.list_calendars(uow, actor=admin)
    return render(
        request,
        "admin/sla/index.html",
        area_context(
            "sla",
            calendars=calendars,
            calendar_names={c.id: c.name for c in calendars},
            policies=sla.list_policies(uow, actor=admin),
            presets=[(p, p) for p in PRESETS],
            time_zones=[(z, z) for z in time_zone_choices()],
            values=values or {"preset": "weekdays"},
            errors=errors or [],
            match=match,
            ticket=ticket,
        ),
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def sla_page(request: Request, uow: PageUow, admin: PageAdmin, ticket: str = "") -> HTMLResponse:
    """The calendars and policies; with ``?ticket=TK-000123`` the dry run for that ticket."""
    match = None
    errors: list[dict[str, str]] = []
    if ticket:
        ticket_id = parse_ticket_number(ticket)
        if ticket_id is None:
            errors.append(
                field_error("ticket", _("Enter a ticket number like TK-000123."), admin.locale)
            )
        else:
            try:
                match = sla.match_policy(uow, data=MatchRequest(ticket_id=ticket_id), actor=admin)
            except DomainError as error:
                errors = form_errors(error, admin.locale, field="ticket")
                errors = [{**e, "field": "ticket"} for e in errors]
    return _overview(request, uow, admin, errors=errors, match=match, ticket=ticket)


# --- calendars ----------------------------------------------------------------------------


def _weekly_hours(form: FormValues) -> dict[str, list[str]]:
    return {
        day: [part.strip() for part in form.get(f"hours_{day}").split(",") if part.strip()]
        for day in WEEKDAY_KEYS
    }


@router.post(PATH + "/calendars")
def create_calendar(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values: dict[str, Any] = form.values("name", "time_zone", "preset")
    values["is_default"] = form.flag("is_default")
    try:
        data = CalendarCreate.model_validate(
            {
                "name": values["name"],
                "time_zone": values["time_zone"] or None,
                "preset": values["preset"] or "weekdays",
                "is_default": values["is_default"],
            }
        )
        created = sla.create_calendar(uow, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="name")
        return _overview(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, f"{PATH}/calendars/{created.id}", flash=_("Calendar created."))


def _calendar_values(calendar: CalendarRead) -> dict[str, Any]:
    values: dict[str, Any] = {"name": calendar.name, "time_zone": calendar.time_zone}
    for day in WEEKDAY_KEYS:
        values[f"hours_{day}"] = ", ".join(calendar.weekly_hours.get(day, []))
    return values


def _calendar_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    calendar: CalendarRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    day_values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = uow.clock.now()
    return render(
        request,
        "admin/sla/calendar.html",
        area_context(
            "sla",
            calendar=calendar,
            values=values,
            day_values=day_values or {"kind": DayKind.holiday.value},
            errors=errors,
            weekdays=WEEKDAY_KEYS,
            presets=[(p, p) for p in PRESETS],
            time_zones=[(z, z) for z in time_zone_choices()],
            day_kinds=list(DayKind),
            years=[now.year, now.year + 1],
        ),
        status_code=status_code,
    )


@router.get(PATH + "/calendars/{calendar_id:int}", response_class=HTMLResponse)
def edit_calendar(
    request: Request, calendar_id: int, uow: PageUow, admin: PageAdmin
) -> HTMLResponse:
    calendar = sla.get_calendar(uow, calendar_id=calendar_id, actor=admin)
    return _calendar_page(
        request, uow, admin, calendar, values=_calendar_values(calendar), errors=[]
    )


@router.post(PATH + "/calendars/{calendar_id:int}")
def update_calendar(
    request: Request,
    calendar_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    calendar = sla.get_calendar(uow, calendar_id=calendar_id, actor=admin)
    values: dict[str, Any] = form.values("name", "time_zone", "preset")
    values.update({f"hours_{d}": form.get(f"hours_{d}") for d in WEEKDAY_KEYS})
    values["is_default"] = form.flag("is_default")
    try:
        update: dict[str, Any] = {"name": values["name"], "time_zone": values["time_zone"]}
        if values["preset"]:
            update["preset"] = values["preset"]
        else:
            update["weekly_hours"] = _weekly_hours(form)
        if values["is_default"] and not calendar.is_default:
            update["is_default"] = True
        data = CalendarUpdate.model_validate(update)
        sla.update_calendar(uow, calendar_id=calendar_id, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="weekly_hours")
        return _calendar_page(
            request, uow, admin, calendar, values=values, errors=errors, status_code=422
        )
    uow.commit()
    return see_other(request, f"{PATH}/calendars/{calendar_id}", flash=_("Calendar saved."))


@router.post(PATH + "/calendars/{calendar_id:int}/days")
def add_calendar_day(
    request: Request,
    calendar_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    calendar = sla.get_calendar(uow, calendar_id=calendar_id, actor=admin)
    day_values = form.values("date", "kind", "name", "hours")
    try:
        hours = [h.strip() for h in day_values["hours"].split(",") if h.strip()]
        data = CalendarDayCreate.model_validate(
            {
                "date": day_values["date"],
                "kind": day_values["kind"],
                "name": day_values["name"],
                "hours": hours or None,
            }
        )
        sla.set_calendar_day(uow, calendar_id=calendar_id, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [
            {**e, "field": f"day.{e['field'] or 'date'}"}
            for e in form_errors(error, admin.locale, field="date")
        ]
        return _calendar_page(
            request,
            uow,
            admin,
            calendar,
            values=_calendar_values(calendar),
            day_values=day_values,
            errors=errors,
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/calendars/{calendar_id}", flash=_("Day saved."))


@router.post(PATH + "/calendars/{calendar_id:int}/days/{day_id:int}/delete")
def remove_calendar_day(
    request: Request,
    calendar_id: int,
    day_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
) -> Response:
    sla.remove_calendar_day(
        uow, calendar_id=calendar_id, day_id=day_id, actor=admin, via=via(request)
    )
    uow.commit()
    return see_other(request, f"{PATH}/calendars/{calendar_id}", flash=_("Day removed."))


@router.post(PATH + "/calendars/{calendar_id:int}/holidays")
def apply_bundled_schedule(
    request: Request,
    calendar_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    calendar = sla.get_calendar(uow, calendar_id=calendar_id, actor=admin)
    year = to_int(form.get("year"))
    try:
        if not isinstance(year, int):
            raise ValueError(year)
        sla.apply_bundled_schedule(
            uow, calendar_id=calendar_id, region="CN", year=year, actor=admin, via=via(request)
        )
    except (DomainError, ValueError) as error:
        uow.rollback()
        errors = (
            [{**e, "field": "year"} for e in form_errors(error, admin.locale, field="year")]
            if isinstance(error, DomainError)
            else [field_error("year", _("Choose a year."), admin.locale)]
        )
        return _calendar_page(
            request,
            uow,
            admin,
            calendar,
            values=_calendar_values(calendar),
            errors=errors,
            status_code=422,
        )
    uow.commit()
    return see_other(
        request,
        f"{PATH}/calendars/{calendar_id}",
        flash=_("The official holidays and make-up workdays were imported."),
    )


@router.post(PATH + "/calendars/{calendar_id:int}/delete")
def delete_calendar(
    request: Request, calendar_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    try:
        sla.delete_calendar(uow, calendar_id=calendar_id, actor=admin, via=via(request))
    except DomainError as error:
        uow.rollback()
        calendar = sla.get_calendar(uow, calendar_id=calendar_id, actor=admin)
        return _calendar_page(
            request,
            uow,
            admin,
            calendar,
            values=_calendar_values(calendar),
            errors=form_errors(error, admin.locale),
            status_code=409,
        )
    uow.commit()
    return see_other(request, PATH, flash=_("Calendar deleted."))


# --- policies -----------------------------------------------------------------------------


@router.post(PATH + "/policies")
def create_policy(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values = form.values("policy_name", "calendar_id")
    try:
        data = PolicyCreate.model_validate(
            {
                "name": values["policy_name"],
                "calendar_id": to_int(values["calendar_id"]) if values["calendar_id"] else None,
                "is_active": False,
            }
        )
        created = sla.create_policy(uow, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [
            {**e, "field": "policy_name" if e["field"] in ("", "name") else e["field"]}
            for e in form_errors(error, admin.locale)
        ]
        return _overview(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(
        request,
        f"{PATH}/policies/{created.id}",
        flash=_("Policy created, switched off: give it targets, then switch it on."),
    )


def _policy_values(policy: PolicyRead) -> dict[str, Any]:
    conditions = policy.conditions
    values: dict[str, Any] = {
        "name": policy.name,
        "is_active": policy.is_active,
        "calendar_id": str(policy.calendar_id or ""),
        "warning_fractions": ", ".join(f"{f:g}" for f in policy.warning_fractions),
        "tags": ", ".join(conditions.get("tags", [])),
        "company_ids": ", ".join(str(c) for c in conditions.get("company_ids", [])),
    }
    for name in _CONDITION_LISTS:
        values[name] = [str(v) for v in conditions.get(name, [])]
    for kind in TargetKind:
        values[f"paused_{kind.value}"] = ", ".join(policy.paused_statuses.get(kind, []))
    for target in policy.targets:
        key = f"{target.priority.value}_{target.kind.value}"
        values[f"target_{key}"] = str(target.minutes)
        values[f"business_{key}"] = target.business_time
    return values


def _policy_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    policy: PolicyRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    step_values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    calendars = sla.list_calendars(uow, actor=admin)
    teams = team_options(uow, admin)
    return render(
        request,
        "admin/sla/policy.html",
        area_context(
            "sla",
            policy=policy,
            policy_fields=_POLICY_FIELDS,
            values=values,
            step_values=step_values or {"trigger": "fraction"},
            errors=errors,
            calendars=[(c.id, c.name) for c in calendars],
            priorities=list(Priority),
            kinds=list(TargetKind),
            actions=list(EscalationAction),
            teams=teams,
            team_names=dict(teams),
            condition_options={
                "priorities": [(p.value, p.value) for p in Priority],
                "types": [(t.value, t) for t in TicketType],
                "channels": [(c.value, c) for c in Channel],
                "customer_tiers": [(t.value, t.value) for t in CustomerTier],
                "team_ids": teams,
            },
        ),
        status_code=status_code,
    )


def _numbers(text: str) -> list[Any]:
    return [to_int(part.strip()) for part in text.split(",") if part.strip()]


def _fractions(text: str) -> list[Any]:
    found: list[Any] = []
    for part in text.split(","):
        if part.strip():
            try:
                found.append(float(part.strip()))
            except ValueError:
                found.append(part.strip())
    return found


@router.get(PATH + "/policies/{policy_id:int}", response_class=HTMLResponse)
def edit_policy(request: Request, policy_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    policy = sla.get_policy(uow, policy_id=policy_id, actor=admin)
    return _policy_page(request, uow, admin, policy, values=_policy_values(policy), errors=[])


@router.post(PATH + "/policies/{policy_id:int}")
def update_policy(
    request: Request,
    policy_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    policy = sla.get_policy(uow, policy_id=policy_id, actor=admin)
    values: dict[str, Any] = form.values(
        "name", "calendar_id", "warning_fractions", "tags", "company_ids"
    )
    values["is_active"] = form.flag("is_active")
    for name in _CONDITION_LISTS:
        values[name] = form.getlist(name)
    targets: list[dict[str, Any]] = []
    for priority in Priority:
        for kind in TargetKind:
            key = f"{priority.value}_{kind.value}"
            values[f"target_{key}"] = form.get(f"target_{key}")
            values[f"business_{key}"] = form.flag(f"business_{key}")
            if values[f"target_{key}"]:
                targets.append(
                    {
                        "priority": priority.value,
                        "kind": kind.value,
                        "minutes": to_int(values[f"target_{key}"]),
                        "business_time": values[f"business_{key}"],
                    }
                )
    paused: dict[str, list[str]] = {}
    for kind in TargetKind:
        text = form.get(f"paused_{kind.value}")
        values[f"paused_{kind.value}"] = text
        paused[kind.value] = [s.strip() for s in text.split(",") if s.strip()]
    try:
        data = PolicyUpdate.model_validate(
            {
                "name": values["name"],
                "is_active": values["is_active"],
                "calendar_id": to_int(values["calendar_id"]) if values["calendar_id"] else None,
                "conditions": {
                    "priorities": values["priorities"],
                    "types": values["types"],
                    "channels": values["channels"],
                    "customer_tiers": values["customer_tiers"],
                    "team_ids": [to_int(v) for v in values["team_ids"]],
                    "company_ids": _numbers(values["company_ids"]),
                    "tags": [t.strip() for t in values["tags"].split(",") if t.strip()],
                },
                "paused_statuses": paused,
                "warning_fractions": _fractions(values["warning_fractions"]),
                "targets": targets,
            }
        )
        sla.update_policy(uow, policy_id=policy_id, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [_target_field(e, targets) for e in form_errors(error, admin.locale)]
        return _policy_page(
            request, uow, admin, policy, values=values, errors=errors, status_code=422
        )
    uow.commit()
    return see_other(
        request,
        f"{PATH}/policies/{policy_id}",
        flash=_("Policy saved. Open tickets' due times are being recomputed."),
    )


def _target_field(error: dict[str, str], targets: list[dict[str, Any]]) -> dict[str, str]:
    """``targets.2.minutes`` -> the grid cell's name, so the error shows next to it."""
    parts = error["field"].split(".")
    if parts[0] == "targets" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(targets):
            target = targets[index]
            return {**error, "field": f"target_{target['priority']}_{target['kind']}"}
    return error


@router.post(PATH + "/policies/{policy_id:int}/toggle")
def toggle_policy(
    request: Request, policy_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    policy = sla.get_policy(uow, policy_id=policy_id, actor=admin)
    sla.update_policy(
        uow,
        policy_id=policy_id,
        data=PolicyUpdate(is_active=not policy.is_active),
        actor=admin,
        via=via(request),
    )
    uow.commit()
    message = _("Policy switched off.") if policy.is_active else _("Policy switched on.")
    return see_other(request, PATH, flash=message)


@router.post(PATH + "/policies/{policy_id:int}/move")
def move_policy(
    request: Request,
    policy_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    order = [p.id for p in sla.list_policies(uow, actor=admin)]
    index = order.index(policy_id) if policy_id in order else -1
    step = -1 if form.get("direction") == "up" else 1
    if index >= 0 and 0 <= index + step < len(order):
        order[index], order[index + step] = order[index + step], order[index]
        sla.reorder_policies(uow, policy_ids=order, actor=admin, via=via(request))
        uow.commit()
    return see_other(request, PATH, flash=_("Policy order saved."))


@router.post(PATH + "/policies/{policy_id:int}/delete")
def delete_policy(
    request: Request, policy_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    sla.delete_policy(uow, policy_id=policy_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH, flash=_("Policy deleted."))


# --- the escalation ladder ----------------------------------------------------------------


def _steps(policy: PolicyRead) -> list[dict[str, Any]]:
    return [
        {
            "kind": s.kind.value,
            "at_fraction": s.at_fraction,
            "after_breach_minutes": s.after_breach_minutes,
            "action": s.action.value,
            "team_id": s.team_id,
        }
        for s in policy.escalations
    ]


def _save_steps(
    uow: UnitOfWork, request: Request, admin: Principal, policy_id: int, steps: list[Any]
) -> None:
    data = PolicyUpdate.model_validate({"escalations": steps})
    sla.update_policy(uow, policy_id=policy_id, data=data, actor=admin, via=via(request))


@router.post(PATH + "/policies/{policy_id:int}/steps")
def add_step(
    request: Request,
    policy_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    policy = sla.get_policy(uow, policy_id=policy_id, actor=admin)
    step_values = form.values("kind", "trigger", "amount", "action", "team_id")
    step: dict[str, Any] = {
        "kind": step_values["kind"],
        "action": step_values["action"],
        "team_id": to_int(step_values["team_id"]) if step_values["team_id"] else None,
    }
    if step_values["trigger"] == "breach":
        step["after_breach_minutes"] = to_int(step_values["amount"] or "0")
    else:
        amount = step_values["amount"]
        try:
            step["at_fraction"] = float(amount) / 100 if amount else None
        except ValueError:
            step["at_fraction"] = amount
    try:
        EscalationStepIn.model_validate(step)
        _save_steps(uow, request, admin, policy_id, [*_steps(policy), step])
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [
            {**e, "field": "step." + (e["field"].split(".")[-1] if e["field"] else "amount")}
            for e in form_errors(error, admin.locale, field="amount")
        ]
        return _policy_page(
            request,
            uow,
            admin,
            policy,
            values=_policy_values(policy),
            step_values=step_values,
            errors=errors,
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/policies/{policy_id}#ladder", flash=_("Step added."))


@router.post(PATH + "/policies/{policy_id:int}/steps/{index:int}")
def change_step(
    request: Request,
    policy_id: int,
    index: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    """``operation``: ``up``, ``down`` (within the same target kind) or ``delete``."""
    policy = sla.get_policy(uow, policy_id=policy_id, actor=admin)
    steps = _steps(policy)
    operation = form.get("operation")
    if 0 <= index < len(steps):
        if operation == "delete":
            del steps[index]
        else:
            kind = steps[index]["kind"]
            same = [i for i, s in enumerate(steps) if s["kind"] == kind]
            at = same.index(index)
            other = at - 1 if operation == "up" else at + 1
            if 0 <= other < len(same):
                j = same[other]
                steps[index], steps[j] = steps[j], steps[index]
        _save_steps(uow, request, admin, policy_id, steps)
        uow.commit()
    return see_other(
        request, f"{PATH}/policies/{policy_id}#ladder", flash=_("Escalation ladder saved.")
    )
