"""Changing the ticket from its page: inline field edits, status actions, assign to me, links,
merge and followers. Every change carries the version the page showed; a stale one is refused
with who changed the ticket and when, instead of overwriting their change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.i18n import _
from closeloop.kit.ids import parse_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import LinkKind, PendingReason, TicketStatus
from closeloop.tickets.errors import StaleVersion
from closeloop.tickets.schemas import TicketUpdate
from closeloop.web.agent.ticket_page import common
from closeloop.web.deps import CsrfChecked, PageAgent, PageSessionDep, PageUow
from closeloop.web.session import PageSession
from closeloop.web.templating import see_other

router = APIRouter()

_CUSTOM_PREFIX = "cf."


def guarded(
    request: Request,
    uow: UnitOfWork,
    session: PageSession,
    *,
    ticket_id: int,
    agent: Principal,
    change: Callable[[], Any],
) -> Response:
    """Run ``change``, commit, answer with the refreshed field panel; a stale version answers
    409 with the panel as it is now and who changed it."""
    try:
        change()
    except StaleVersion:
        uow.rollback()
        message = common.stale_message(
            uow,
            ticket_id=ticket_id,
            actor=agent,
            locale=session.locale,
            time_zone=session.time_zone,
        )
        return common.fields_fragment(
            request,
            uow,
            ticket_id=ticket_id,
            actor=agent,
            error=message,
            status_code=409,
            headers={"HX-Retarget": "#fields", "HX-Reswap": "outerHTML"},
        )
    uow.commit()
    return common.after_change(request, uow, ticket_id=ticket_id, actor=agent)


def _number(value: str) -> float | int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError as error:
            raise ValidationFailed(
                errors=[{"field": "custom_fields", "code": "wrong_type", "message": text}]
            ) from error


def parse_field_form(form: FormData, ticket: Any, definitions: list[Any]) -> dict[str, Any]:
    """The fields whose submitted value differs from the ticket's (the form sends them all)."""
    changed: dict[str, Any] = {}
    for name in ("type", "priority"):
        given = form.get(name)
        if isinstance(given, str) and given and given != getattr(ticket, name):
            changed[name] = given
    for name in ("team_id", "assignee_id"):
        if name in form:
            raw = form.get(name)
            chosen = int(raw) if isinstance(raw, str) and raw.strip() else None
            if chosen != getattr(ticket, name):
                changed[name] = chosen
    if "tags" in form:
        raw_tags = form.get("tags")
        tags = [t.strip() for t in str(raw_tags or "").split(",") if t.strip()]
        if tags != list(ticket.tags):
            changed["tags"] = tags
    kinds = {d.key: d.field_type for d in definitions}
    custom: dict[str, Any] = {}
    for key, raw in form.multi_items():
        if not key.startswith(_CUSTOM_PREFIX) or not isinstance(raw, str):
            continue
        field = key.removeprefix(_CUSTOM_PREFIX)
        if field not in kinds:
            continue
        value: Any = _number(raw) if kinds[field] == "number" else (raw.strip() or None)
        if value != ticket.custom_fields.get(field):
            custom[field] = value
    if custom:
        changed["custom_fields"] = custom
    return changed


@router.post("/agent/tickets/{ticket_id:int}/fields")
async def edit_fields(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
) -> Response:
    form = await request.form()
    raw_version = form.get("version")
    version = int(raw_version) if isinstance(raw_version, str) and raw_version.isdigit() else None

    def change() -> None:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=agent)
        definitions = list(common.custom_field_definitions(uow, ticket=ticket, actor=agent))
        changed = parse_field_form(form, ticket, definitions)
        if "team_id" in changed and "assignee_id" not in changed:
            # Handing the ticket to another team keeps the assignee only if they are a member.
            assignee = ticket.assignee_id
            team = changed["team_id"]
            if assignee is not None and (
                team is None or not accounts.is_team_member(uow, team_id=team, agent_id=assignee)
            ):
                changed["assignee_id"] = None
        if not changed:
            return
        tickets.update_fields(
            uow,
            ticket_id=ticket_id,
            data=TicketUpdate(**changed),
            expected_version=version,
            actor=agent,
            via=common.via(request),
        )

    # The form is read on the event loop; the database work runs in the thread pool.
    return await run_in_threadpool(
        guarded, request, uow, session, ticket_id=ticket_id, agent=agent, change=change
    )


@router.post("/agent/tickets/{ticket_id:int}/status")
def change_status(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    status: Annotated[TicketStatus, Form()],
    version: Annotated[int | None, Form()] = None,
    pending_reason: Annotated[PendingReason | None, Form()] = None,
) -> Response:
    return guarded(
        request,
        uow,
        session,
        ticket_id=ticket_id,
        agent=agent,
        change=lambda: tickets.transition(
            uow,
            ticket_id=ticket_id,
            target=status,
            pending_reason=pending_reason if status is TicketStatus.pending else None,
            expected_version=version,
            actor=agent,
            via=common.via(request),
        ),
    )


@router.post("/agent/tickets/{ticket_id:int}/assign-me")
def assign_to_me(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    version: Annotated[int | None, Form()] = None,
) -> Response:
    def change() -> None:
        ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=agent)
        team_id = ticket.team_id
        if team_id is not None and not accounts.is_team_member(
            uow, team_id=team_id, agent_id=agent.id or 0
        ):
            # Taking a ticket of another team's queue moves it to one of the agent's teams.
            team_id = min(agent.team_ids) if agent.team_ids else None
        tickets.assign(
            uow,
            ticket_id=ticket_id,
            team_id=team_id,
            assignee_id=agent.id,
            expected_version=version,
            actor=agent,
            via=common.via(request),
        )

    return guarded(request, uow, session, ticket_id=ticket_id, agent=agent, change=change)


def _ticket_id_of(number: str, locale: str) -> int:
    found = parse_ticket_number(number.strip())
    if found is None:
        raise ValidationFailed(
            errors=[
                {
                    "field": "number",
                    "code": "invalid",
                    "message": _("Write a ticket number such as TK-000123.").render(locale),
                }
            ]
        )
    return found


@router.post("/agent/tickets/{ticket_id:int}/links")
def add_link(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    number: Annotated[str, Form(max_length=40)],
    kind: Annotated[LinkKind, Form()] = LinkKind.related,
) -> Response:
    target = _ticket_id_of(number, session.locale)
    tickets.link_tickets(
        uow,
        ticket_id=ticket_id,
        target_ticket_id=target,
        kind=kind,
        actor=agent,
        via=common.via(request),
    )
    uow.commit()
    return common.after_change(request, uow, ticket_id=ticket_id, actor=agent)


@router.post("/agent/tickets/{ticket_id:int}/links/{link_id}/delete")
def remove_link(
    ticket_id: int,
    link_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    _csrf: CsrfChecked,
) -> Response:
    tickets.unlink_tickets(
        uow, ticket_id=ticket_id, link_id=link_id, actor=agent, via=common.via(request)
    )
    uow.commit()
    return common.after_change(request, uow, ticket_id=ticket_id, actor=agent)


@router.post("/agent/tickets/{ticket_id:int}/merge")
def merge(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    session: PageSessionDep,
    _csrf: CsrfChecked,
    number: Annotated[str, Form(max_length=40)],
    confirm: Annotated[str, Form()] = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Merge this ticket into another (after confirmation) and go to the surviving ticket."""
    if confirm != "yes":
        raise ValidationFailed(
            errors=[
                {
                    "field": "confirm",
                    "code": "required",
                    "message": _("Confirm the merge: this ticket will be closed.").render(
                        session.locale
                    ),
                }
            ]
        )
    into = _ticket_id_of(number, session.locale)
    holder: dict[str, Any] = {}

    def change() -> None:
        holder["survivor"] = tickets.merge_tickets(
            uow,
            source_ticket_id=ticket_id,
            into_ticket_id=into,
            expected_version=version,
            actor=agent,
            via=common.via(request),
        )

    answer = guarded(request, uow, session, ticket_id=ticket_id, agent=agent, change=change)
    if "survivor" not in holder:
        return answer
    return see_other(
        request,
        f"/agent/tickets/{holder['survivor'].id}",
        flash=_("The ticket was merged."),
    )


@router.post("/agent/tickets/{ticket_id:int}/followers")
def follow(
    ticket_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    _csrf: CsrfChecked,
    agent_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Follow the ticket (or, with ``agent_id``, make a colleague follow it)."""
    tickets.add_follower(
        uow,
        ticket_id=ticket_id,
        agent_id=agent_id or agent.id,
        actor=agent,
        via=common.via(request),
    )
    uow.commit()
    return common.after_change(request, uow, ticket_id=ticket_id, actor=agent)


@router.post("/agent/tickets/{ticket_id:int}/followers/{follower_id}/delete")
def unfollow(
    ticket_id: int,
    follower_id: int,
    request: Request,
    uow: PageUow,
    agent: PageAgent,
    _csrf: CsrfChecked,
) -> Response:
    tickets.remove_follower(
        uow, ticket_id=ticket_id, follower_id=follower_id, actor=agent, via=common.via(request)
    )
    uow.commit()
    return common.after_change(request, uow, ticket_id=ticket_id, actor=agent)
