"""SLA over JSON: calendars, policies and ladders (admins change, staff read), a ticket's
clocks, and attainment reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via
from closeloop.kit.errors import ValidationFailed
from closeloop.sla import service as sla
from closeloop.sla.schemas import (
    AttainmentGroupBy,
    AttainmentRead,
    BundledScheduleApply,
    CalendarCreate,
    CalendarDayCreate,
    CalendarDayRead,
    CalendarRead,
    CalendarUpdate,
    HolidayImportRead,
    MatchRead,
    MatchRequest,
    PolicyCreate,
    PolicyRead,
    PolicyReorder,
    PolicyUpdate,
    TicketSlaRead,
)

router = APIRouter(tags=["sla"])

HOLIDAY_FILE_EXAMPLE = {
    "year": 2026,
    "region": "CN",
    "source": "https://www.gov.cn/...",
    "holidays": [{"date": "2026-01-01", "name": "元旦"}],
    "makeup_workdays": [{"date": "2026-01-04", "name": "元旦调休"}],
}


# --- calendars ----------------------------------------------------------------------------


@router.get("/sla/calendars", response_model=list[CalendarRead])
def list_calendars(uow: Uow, actor: CurrentPrincipal) -> list[CalendarRead]:
    return sla.list_calendars(uow, actor=actor)


@router.post("/sla/calendars", status_code=201, response_model=CalendarRead)
def create_calendar(
    data: CalendarCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    """Create a calendar from a ``preset`` (24x7, 7x12, weekdays) or ``weekly_hours``."""
    return once.respond(data, lambda: sla.create_calendar(uow, data=data, actor=actor, via=via))


@router.get("/sla/calendars/{calendar_id}", response_model=CalendarRead)
def get_calendar(calendar_id: int, uow: Uow, actor: CurrentPrincipal) -> CalendarRead:
    return sla.get_calendar(uow, calendar_id=calendar_id, actor=actor)


@router.patch("/sla/calendars/{calendar_id}", response_model=CalendarRead)
def update_calendar(
    calendar_id: int, data: CalendarUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CalendarRead:
    calendar = sla.update_calendar(uow, calendar_id=calendar_id, data=data, actor=actor, via=via)
    uow.commit()
    return calendar


@router.delete("/sla/calendars/{calendar_id}", status_code=204)
def delete_calendar(calendar_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    """Delete a calendar no policy uses (the default one only when it is the last)."""
    sla.delete_calendar(uow, calendar_id=calendar_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post("/sla/calendars/{calendar_id}/days", response_model=CalendarDayRead)
def set_calendar_day(
    calendar_id: int, data: CalendarDayCreate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CalendarDayRead:
    """Add a holiday or a make-up workday (调休), or replace the one on that date."""
    day = sla.set_calendar_day(uow, calendar_id=calendar_id, data=data, actor=actor, via=via)
    uow.commit()
    return day


@router.delete("/sla/calendars/{calendar_id}/days/{day_id}", status_code=204)
def remove_calendar_day(
    calendar_id: int, day_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    sla.remove_calendar_day(uow, calendar_id=calendar_id, day_id=day_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.post("/sla/calendars/{calendar_id}/holidays/import", response_model=HolidayImportRead)
def import_holidays(
    calendar_id: int,
    document: Annotated[dict[str, Any], Body(examples=[HOLIDAY_FILE_EXAMPLE])],
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
) -> HolidayImportRead:
    """Apply one year of holidays and make-up workdays; the calendar's days in that year are
    replaced by the file's."""
    result = sla.import_holidays(
        uow, calendar_id=calendar_id, text=json.dumps(document), actor=actor, via=via
    )
    uow.commit()
    return result


@router.post("/sla/calendars/{calendar_id}/holidays/bundled", response_model=HolidayImportRead)
def apply_bundled_schedule(
    calendar_id: int, data: BundledScheduleApply, uow: Uow, actor: CurrentPrincipal, via: Via
) -> HolidayImportRead:
    """Apply an official schedule shipped with closeloop (mainland China: ``CN``)."""
    result = sla.apply_bundled_schedule(
        uow, calendar_id=calendar_id, region=data.region, year=data.year, actor=actor, via=via
    )
    uow.commit()
    return result


# --- policies -----------------------------------------------------------------------------


@router.get("/sla/policies", response_model=list[PolicyRead])
def list_policies(uow: Uow, actor: CurrentPrincipal) -> list[PolicyRead]:
    """Every policy in the order they are tried; the first active one that matches applies."""
    return sla.list_policies(uow, actor=actor)


@router.post("/sla/policies", status_code=201, response_model=PolicyRead)
def create_policy(
    data: PolicyCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    return once.respond(data, lambda: sla.create_policy(uow, data=data, actor=actor, via=via))


@router.post("/sla/policies/reorder", response_model=list[PolicyRead])
def reorder_policies(
    data: PolicyReorder, uow: Uow, actor: CurrentPrincipal, via: Via
) -> list[PolicyRead]:
    policies = sla.reorder_policies(uow, policy_ids=data.policy_ids, actor=actor, via=via)
    uow.commit()
    return policies


@router.post("/sla/policies/match", response_model=MatchRead)
def match_policy(data: MatchRequest, uow: Uow, actor: CurrentPrincipal) -> MatchRead:
    """Dry run: which policy applies to a ticket (or to the given attributes), and why."""
    return sla.match_policy(uow, data=data, actor=actor)


@router.get("/sla/policies/{policy_id}", response_model=PolicyRead)
def get_policy(policy_id: int, uow: Uow, actor: CurrentPrincipal) -> PolicyRead:
    return sla.get_policy(uow, policy_id=policy_id, actor=actor)


@router.patch("/sla/policies/{policy_id}", response_model=PolicyRead)
def update_policy(
    policy_id: int, data: PolicyUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> PolicyRead:
    """Change a policy; ``targets`` and ``escalations`` replace the lists (send the steps in
    their new order to reorder a ladder)."""
    policy = sla.update_policy(uow, policy_id=policy_id, data=data, actor=actor, via=via)
    uow.commit()
    return policy


@router.delete("/sla/policies/{policy_id}", status_code=204)
def delete_policy(policy_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    sla.delete_policy(uow, policy_id=policy_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


# --- clocks and reports -------------------------------------------------------------------


@router.get("/tickets/{ticket_id}/sla", response_model=TicketSlaRead)
def ticket_sla(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> TicketSlaRead:
    """Each target's clock as of now: due, elapsed, paused, remaining, state, milestones."""
    return sla.ticket_sla(uow, ticket_id=ticket_id, actor=actor)


@router.get("/sla/attainment", response_model=AttainmentRead)
def attainment(
    uow: Uow,
    actor: CurrentPrincipal,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    group_by: AttainmentGroupBy = "policy",
) -> AttainmentRead:
    """Met, breached and all clocks of the tickets created in ``[from, to)`` per group;
    attainment is met / (met + breached)."""
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise ValidationFailed(
                errors=[
                    {
                        "field": name,
                        "code": "naive_datetime",
                        "message": "Give a time zone, e.g. 2026-01-31T08:00:00+08:00 or ...Z.",
                    }
                ]
            )
    return sla.attainment(uow, start=start, end=end, group_by=group_by, actor=actor)
