"""Admin pages for what tickets carry and say: custom fields per ticket type, and shared canned
responses (macros of a team or of everyone).

Custom fields go through ``tickets.custom_fields.service``; canned responses through
``tickets.macros.service``, whose rules decide who changes what: admins every shared macro,
a team's lead the macros of that team (so leads see this one admin page too).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from closeloop.accounts import management
from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import _
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.custom_fields.schemas import CustomFieldCreate, CustomFieldUpdate
from closeloop.tickets.domain import PendingReason, Priority, TicketStatus, TicketType
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.domain import PLACEHOLDERS, MacroScope
from closeloop.tickets.macros.schemas import MacroActions, MacroCreate, MacroUpdate
from closeloop.web.admin.common import (
    FORM_ERRORS,
    FormValues,
    PageAdminOrLead,
    PageForm,
    area_context,
    form_errors,
    to_int,
    via,
)
from closeloop.web.deps import CsrfChecked, PageAdmin, PageUow, render, see_other

router = APIRouter()

# --- custom fields ------------------------------------------------------------------------

_FIELD_PATH = "/admin/custom-fields"


def _definition(uow: UnitOfWork, admin: Principal, field_id: int) -> Any:
    for definition in custom_fields.list_custom_fields(uow, actor=admin, include_inactive=True):
        if definition.id == field_id:
            return definition
    raise NotFound()


def _options(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _fields_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    ticket_type: str,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    every = custom_fields.list_custom_fields(uow, actor=admin, include_inactive=True)
    groups: list[tuple[str, list[Any]]] = [("", [d for d in every if d.ticket_type is None])]
    groups += [(t.value, [d for d in every if d.ticket_type == t.value]) for t in TicketType]
    if ticket_type:
        groups = [g for g in groups if g[0] in ("", ticket_type)]
    return render(
        request,
        "admin/custom_fields/list.html",
        area_context(
            "custom-fields",
            groups=groups,
            ticket_type=ticket_type,
            ticket_types=list(TicketType),
            field_types=[(t.value, t.value) for t in FieldType],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


@router.get(_FIELD_PATH, response_class=HTMLResponse)
def custom_fields_page(
    request: Request, uow: PageUow, admin: PageAdmin, ticket_type: str = ""
) -> HTMLResponse:
    chosen = ticket_type if ticket_type in {t.value for t in TicketType} else ""
    values = {"field_type": FieldType.text.value, "ticket_type": chosen, "position": "0"}
    return _fields_page(request, uow, admin, ticket_type=chosen, values=values, errors=[])


@router.post(_FIELD_PATH)
def create_custom_field(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values: dict[str, Any] = form.values(
        "key", "label_en", "label_zh", "field_type", "ticket_type", "options", "position"
    )
    values["options"] = form.raw("options")
    values["is_required"] = form.flag("is_required")
    try:
        data = CustomFieldCreate.model_validate(
            {
                "key": values["key"],
                "label_en": values["label_en"],
                "label_zh": values["label_zh"] or None,
                "field_type": values["field_type"],
                "ticket_type": values["ticket_type"] or None,
                "options": _options(values["options"]),
                "is_required": values["is_required"],
                "position": to_int(values["position"] or "0"),
            }
        )
        custom_fields.create_custom_field(uow, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return _fields_page(
            request,
            uow,
            admin,
            ticket_type="",
            values=values,
            errors=form_errors(error, admin.locale, field="key"),
            status_code=422,
        )
    uow.commit()
    suffix = f"?ticket_type={values['ticket_type']}" if values["ticket_type"] else ""
    return see_other(request, _FIELD_PATH + suffix, flash=_("Custom field created."))


def _field_form(
    request: Request,
    definition: Any,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/custom_fields/form.html",
        area_context("custom-fields", definition=definition, values=values, errors=errors),
        status_code=status_code,
    )


@router.get(_FIELD_PATH + "/{field_id:int}", response_class=HTMLResponse)
def edit_custom_field(
    request: Request, field_id: int, uow: PageUow, admin: PageAdmin
) -> HTMLResponse:
    definition = _definition(uow, admin, field_id)
    values = {
        "label_en": definition.label_en,
        "label_zh": definition.label_zh,
        "options": "\n".join(definition.options),
        "is_required": definition.is_required,
        "position": str(definition.position),
        "is_active": definition.is_active,
    }
    return _field_form(request, definition, values=values, errors=[])


@router.post(_FIELD_PATH + "/{field_id:int}")
def update_custom_field(
    request: Request,
    field_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    definition = _definition(uow, admin, field_id)
    values: dict[str, Any] = form.values("label_en", "label_zh", "position")
    values["options"] = form.raw("options")
    values["is_required"] = form.flag("is_required")
    values["is_active"] = form.flag("is_active")
    try:
        update: dict[str, Any] = {
            "label_en": values["label_en"],
            "label_zh": values["label_zh"] or values["label_en"],
            "is_required": values["is_required"],
            "position": to_int(values["position"] or "0"),
            "is_active": values["is_active"],
        }
        if definition.field_type == FieldType.select.value:
            update["options"] = _options(values["options"])
        data = CustomFieldUpdate.model_validate(update)
        custom_fields.update_custom_field(
            uow, field_id=field_id, data=data, actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _field_form(
            request,
            definition,
            values=values,
            errors=form_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{_FIELD_PATH}/{field_id}", flash=_("Custom field saved."))


@router.post(_FIELD_PATH + "/{field_id:int}/deactivate")
def deactivate_custom_field(
    request: Request, field_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    custom_fields.deactivate_custom_field(uow, field_id=field_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, _FIELD_PATH, flash=_("Custom field deactivated."))


# --- canned responses (shared macros) -----------------------------------------------------

_MACRO_PATH = "/admin/canned-responses"
_ACTION_FIELDS = ("status", "pending_reason", "priority", "type", "action_team_id", "add_tags")


def _manageable_teams(uow: UnitOfWork, actor: Principal) -> list[tuple[int, str]]:
    teams = management.list_teams(uow, actor=actor, is_active=True)
    return [(t.id, t.name) for t in teams if actor.is_admin or t.id in actor.led_team_ids]


def _shared(uow: UnitOfWork, actor: Principal) -> list[Any]:
    return [
        m
        for m in macros.list_manageable_macros(uow, actor=actor)
        if m.scope != MacroScope.personal.value
    ]


def _macro_page(
    request: Request,
    uow: UnitOfWork,
    actor: Principal,
    *,
    template: str,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    macro: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    teams = management.list_teams(uow, actor=actor)
    return render(
        request,
        template,
        area_context(
            "canned-responses",
            macros=_shared(uow, actor) if macro is None else [],
            macro=macro,
            team_names={t.id: t.name for t in teams},
            manageable_teams=_manageable_teams(uow, actor),
            all_teams=[(t.id, t.name) for t in teams if t.is_active],
            statuses=[
                (s.value, s)
                for s in TicketStatus
                if s not in (TicketStatus.new, TicketStatus.closed)
            ],
            pending_reasons=list(PendingReason),
            priorities=list(Priority),
            types=list(TicketType),
            placeholders=", ".join("{" + p + "}" for p in PLACEHOLDERS),
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


def _posted_macro(form: FormValues) -> dict[str, Any]:
    values: dict[str, Any] = form.values("title", "scope", "team_id", *_ACTION_FIELDS)
    values["body"] = form.raw("body")
    values["is_active"] = form.flag("is_active")
    return values


def _actions(values: dict[str, Any]) -> dict[str, Any]:
    actions: dict[str, Any] = {
        name: values[name]
        for name in ("status", "pending_reason", "priority", "type")
        if values.get(name)
    }
    if values.get("action_team_id"):
        actions["team_id"] = to_int(values["action_team_id"])
    tags = [t.strip() for t in str(values.get("add_tags", "")).split(",") if t.strip()]
    if tags:
        actions["add_tags"] = tags
    return actions


def _macro_values(macro: Any) -> dict[str, Any]:
    actions = dict(macro.actions)
    return {
        "title": macro.title,
        "body": macro.body,
        "is_active": macro.is_active,
        "status": actions.get("status", ""),
        "pending_reason": actions.get("pending_reason", ""),
        "priority": actions.get("priority", ""),
        "type": actions.get("type", ""),
        "action_team_id": str(actions.get("team_id") or ""),
        "add_tags": ", ".join(actions.get("add_tags", [])),
    }


@router.get(_MACRO_PATH, response_class=HTMLResponse)
def canned_responses_page(request: Request, uow: PageUow, actor: PageAdminOrLead) -> HTMLResponse:
    scope = MacroScope.global_.value if actor.is_admin else MacroScope.team.value
    values = {"scope": scope, "is_active": True}
    return _macro_page(
        request, uow, actor, template="admin/canned_responses/list.html", values=values, errors=[]
    )


@router.post(_MACRO_PATH)
def create_canned_response(
    request: Request, uow: PageUow, actor: PageAdminOrLead, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values = _posted_macro(form)
    try:
        data = MacroCreate.model_validate(
            {
                "title": values["title"],
                "body": values["body"],
                "scope": values["scope"] or MacroScope.team.value,
                "team_id": to_int(values["team_id"]) if values["team_id"] else None,
                "is_active": values["is_active"],
                "actions": _actions(values),
            }
        )
        if data.scope is MacroScope.personal:
            data = data.model_copy(update={"scope": MacroScope.team})
        macros.create_macro(uow, data=data, actor=actor, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return _macro_page(
            request,
            uow,
            actor,
            template="admin/canned_responses/list.html",
            values=values,
            errors=form_errors(error, actor.locale, field="team_id"),
            status_code=422,
        )
    uow.commit()
    return see_other(request, _MACRO_PATH, flash=_("Canned response saved."))


def _manageable_macro(uow: UnitOfWork, actor: Principal, macro_id: int) -> Any:
    for macro in _shared(uow, actor):
        if macro.id == macro_id:
            return macro
    raise NotFound()


@router.get(_MACRO_PATH + "/{macro_id:int}", response_class=HTMLResponse)
def edit_canned_response(
    request: Request, macro_id: int, uow: PageUow, actor: PageAdminOrLead
) -> HTMLResponse:
    macro = _manageable_macro(uow, actor, macro_id)
    return _macro_page(
        request,
        uow,
        actor,
        template="admin/canned_responses/form.html",
        values=_macro_values(macro),
        errors=[],
        macro=macro,
    )


@router.post(_MACRO_PATH + "/{macro_id:int}")
def update_canned_response(
    request: Request,
    macro_id: int,
    uow: PageUow,
    actor: PageAdminOrLead,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    macro = _manageable_macro(uow, actor, macro_id)
    values = _posted_macro(form)
    try:
        data = MacroUpdate.model_validate(
            {
                "title": values["title"],
                "body": values["body"],
                "is_active": values["is_active"],
                "actions": MacroActions.model_validate(_actions(values)),
            }
        )
        macros.update_macro(uow, macro_id=macro_id, data=data, actor=actor, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return _macro_page(
            request,
            uow,
            actor,
            template="admin/canned_responses/form.html",
            values=values,
            errors=form_errors(error, actor.locale),
            macro=macro,
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{_MACRO_PATH}/{macro_id}", flash=_("Canned response saved."))


@router.post(_MACRO_PATH + "/{macro_id:int}/delete")
def delete_canned_response(
    request: Request, macro_id: int, uow: PageUow, actor: PageAdminOrLead, _csrf: CsrfChecked
) -> Response:
    _manageable_macro(uow, actor, macro_id)
    macros.delete_macro(uow, macro_id=macro_id, actor=actor, via=via(request))
    uow.commit()
    return see_other(request, _MACRO_PATH, flash=_("Canned response deleted."))
