"""Business calendars: working hours, holidays and make-up workdays (admins change them).

Every change is validated by building the pure calendar, so a stored calendar can always be
computed with; it is audited, and open tickets are recomputed in the background.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.sla import permissions, repository
from closeloop.sla.calendar import HolidaySchedule, parse_holiday_file
from closeloop.sla.domain import (
    PRESETS,
    CalendarDaySpec,
    DayKind,
    build_calendar,
    format_interval,
    format_weekly_hours,
    parse_day_hours,
)
from closeloop.sla.errors import (
    CalendarDayNotFound,
    CalendarInUse,
    CalendarNotFound,
    DefaultCalendarRequired,
    InvalidCalendar,
    InvalidHolidayFile,
    ScheduleNotBundled,
    SlaNameUsed,
)
from closeloop.sla.holidays import load_bundled_schedule
from closeloop.sla.models import BusinessCalendar, CalendarDay
from closeloop.sla.schemas import (
    CalendarCreate,
    CalendarDayCreate,
    CalendarDayRead,
    CalendarRead,
    CalendarUpdate,
    HolidayImportRead,
)
from closeloop.sla.service import rulebook
from closeloop.sla.service.clocks import request_recompute

ENTITY = "sla_calendar"


def present(calendar: BusinessCalendar, days: Iterable[CalendarDay]) -> CalendarRead:
    return CalendarRead(
        id=calendar.id,
        name=calendar.name,
        time_zone=calendar.time_zone,
        weekly_hours=calendar.weekly_hours,
        is_default=calendar.is_default,
        days=[
            CalendarDayRead(id=d.id, date=d.date, kind=DayKind(d.kind), name=d.name, hours=d.hours)
            for d in days
        ],
        created_at=calendar.created_at,
        updated_at=calendar.updated_at,
    )


def _read(uow: UnitOfWork, calendar: BusinessCalendar) -> CalendarRead:
    return present(calendar, repository.days_of(uow.session, [calendar.id]))


def list_calendars(uow: UnitOfWork, *, actor: Principal) -> list[CalendarRead]:
    permissions.require_read(actor)
    calendars = repository.calendars(uow.session)
    days: dict[int, list[CalendarDay]] = {c.id: [] for c in calendars}
    for day in repository.days_of(uow.session, list(days)):
        days[day.calendar_id].append(day)
    return [present(c, days[c.id]) for c in calendars]


def get_calendar(uow: UnitOfWork, *, calendar_id: int, actor: Principal) -> CalendarRead:
    permissions.require_read(actor)
    return _read(uow, _load(uow, calendar_id))


def _load(uow: UnitOfWork, calendar_id: int, *, for_update: bool = False) -> BusinessCalendar:
    calendar = repository.calendar(uow.session, calendar_id, for_update=for_update)
    if calendar is None:
        raise CalendarNotFound(calendar_id=calendar_id)
    return calendar


def _normalised_hours(weekly_hours: dict[str, list[str]]) -> dict[str, list[str]]:
    """Validated hours in their canonical spelling (``"9:00-18:00"`` → ``"09:00-18:00"``)."""
    try:
        calendar = build_calendar("UTC", weekly_hours)
    except ValueError as error:
        raise InvalidCalendar(field="weekly_hours", reason=str(error)) from error
    if not calendar.weekly_hours:
        raise InvalidCalendar(
            field="weekly_hours", reason="a calendar needs working hours on at least one day"
        )
    return format_weekly_hours(calendar)


def _validate(
    time_zone: str, weekly_hours: dict[str, list[str]], days: Iterable[CalendarDaySpec]
) -> None:
    try:
        build_calendar(time_zone, weekly_hours, days)
    except ValueError as error:
        field = "time_zone" if "time zone" in str(error) else "days"
        raise InvalidCalendar(field=field, reason=str(error)) from error


def _specs(days: Iterable[CalendarDay]) -> list[CalendarDaySpec]:
    return [rulebook.day_spec(d) for d in days]


def _check_name(uow: UnitOfWork, name: str, calendar_id: int | None = None) -> None:
    found = repository.calendar_by_name(uow.session, name)
    if found is not None and found.id != calendar_id:
        raise SlaNameUsed(name=name)


def _changed(uow: UnitOfWork) -> None:
    rulebook.forget(uow)
    request_recompute(uow)


def _record(
    uow: UnitOfWork,
    calendar_id: int,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: Sequence[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=calendar_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )


def create_calendar(
    uow: UnitOfWork, *, data: CalendarCreate, actor: Principal, via: str
) -> CalendarRead:
    permissions.require_manage(actor)
    _check_name(uow, data.name)
    time_zone = data.time_zone or accounts.get_organisation(uow).time_zone
    hours = _normalised_hours(
        dict(PRESETS[data.preset]) if data.preset else data.weekly_hours or {}
    )
    _validate(time_zone, hours, ())
    now = uow.clock.now()
    is_default = data.is_default or not repository.default_calendars(uow.session)
    calendar = BusinessCalendar(
        name=data.name,
        time_zone=time_zone,
        weekly_hours=hours,
        is_default=is_default,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(calendar)
    uow.session.flush()
    if is_default:
        repository.clear_default_calendar(uow.session, except_id=calendar.id)
    _record(
        uow,
        calendar.id,
        action="sla.calendar_created",
        actor=actor,
        via=via,
        changes=[
            Change("name", None, calendar.name),
            Change("time_zone", None, time_zone),
            Change("weekly_hours", None, hours),
            Change("is_default", None, is_default),
        ],
        new_entity=True,
    )
    _changed(uow)
    return present(calendar, [])


def update_calendar(
    uow: UnitOfWork, *, calendar_id: int, data: CalendarUpdate, actor: Principal, via: str
) -> CalendarRead:
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    changes: list[Change] = []
    if data.name is not None and data.name != calendar.name:
        _check_name(uow, data.name, calendar.id)
        changes.append(Change("name", calendar.name, data.name))
        calendar.name = data.name
    hours = calendar.weekly_hours
    if data.preset is not None or data.weekly_hours is not None:
        hours = _normalised_hours(
            dict(PRESETS[data.preset]) if data.preset else data.weekly_hours or {}
        )
    time_zone = data.time_zone or calendar.time_zone
    _validate(time_zone, hours, _specs(repository.days_of(uow.session, [calendar.id])))
    if hours != calendar.weekly_hours:
        changes.append(Change("weekly_hours", calendar.weekly_hours, hours))
        calendar.weekly_hours = hours
    if time_zone != calendar.time_zone:
        changes.append(Change("time_zone", calendar.time_zone, time_zone))
        calendar.time_zone = time_zone
    if data.is_default and not calendar.is_default:
        changes.append(Change("is_default", False, True))
        calendar.is_default = True
        repository.clear_default_calendar(uow.session, except_id=calendar.id)
    if changes:
        calendar.updated_at = uow.clock.now()
        uow.session.flush()
        _record(
            uow, calendar.id, action="sla.calendar_updated", actor=actor, via=via, changes=changes
        )
        _changed(uow)
    return _read(uow, calendar)


def delete_calendar(uow: UnitOfWork, *, calendar_id: int, actor: Principal, via: str) -> None:
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    users = repository.policy_names_using_calendar(uow.session, calendar.id)
    if users:
        raise CalendarInUse(calendar_id=calendar.id, policies=", ".join(users))
    if calendar.is_default and len(repository.calendars(uow.session)) > 1:
        raise DefaultCalendarRequired(calendar_id=calendar.id)
    _record(
        uow,
        calendar.id,
        action="sla.calendar_deleted",
        actor=actor,
        via=via,
        changes=[Change("name", calendar.name, None)],
    )
    uow.session.delete(calendar)
    uow.session.flush()
    _changed(uow)


def set_calendar_day(
    uow: UnitOfWork, *, calendar_id: int, data: CalendarDayCreate, actor: Principal, via: str
) -> CalendarDayRead:
    """Add a holiday or make-up workday, or change the one on that date."""
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    hours = None
    if data.hours is not None:
        try:
            hours = [format_interval(i) for i in parse_day_hours(data.hours, "hours")]
        except ValueError as error:
            raise InvalidCalendar(field="hours", reason=str(error)) from error
    _replace_days(
        uow,
        calendar,
        [(data.date, DayKind(data.kind), data.name, hours)],
        actor=actor,
        via=via,
    )
    day = next(d for d in repository.days_of(uow.session, [calendar.id]) if d.date == data.date)
    return CalendarDayRead(
        id=day.id, date=day.date, kind=DayKind(day.kind), name=day.name, hours=day.hours
    )


def remove_calendar_day(
    uow: UnitOfWork, *, calendar_id: int, day_id: int, actor: Principal, via: str
) -> None:
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    day = repository.day(uow.session, calendar.id, day_id)
    if day is None:
        raise CalendarDayNotFound(calendar_id=calendar.id, day_id=day_id)
    _record(
        uow,
        calendar.id,
        action="sla.calendar_day_removed",
        actor=actor,
        via=via,
        changes=[Change(day.date.isoformat(), {"kind": day.kind, "name": day.name}, None)],
    )
    uow.session.delete(day)
    calendar.updated_at = uow.clock.now()
    uow.session.flush()
    _changed(uow)


def import_holidays(
    uow: UnitOfWork, *, calendar_id: int, text: str, actor: Principal, via: str
) -> HolidayImportRead:
    """Apply one year of a holiday file (``sla.calendar.parse_holiday_file``'s JSON): the
    calendar's days in that year are replaced by the file's."""
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    try:
        schedule = parse_holiday_file(text)
    except ValueError as error:
        raise InvalidHolidayFile(reason=str(error)) from error
    return _apply_schedule(uow, calendar, schedule, actor=actor, via=via)


def apply_bundled_schedule(
    uow: UnitOfWork, *, calendar_id: int, region: str, year: int, actor: Principal, via: str
) -> HolidayImportRead:
    """Apply the official schedule closeloop ships for ``region`` and ``year``."""
    permissions.require_manage(actor)
    calendar = _load(uow, calendar_id, for_update=True)
    schedule = load_bundled_schedule(region, year)
    if schedule is None:
        raise ScheduleNotBundled(region=region.upper(), year=year)
    return _apply_schedule(uow, calendar, schedule, actor=actor, via=via)


def _apply_schedule(
    uow: UnitOfWork,
    calendar: BusinessCalendar,
    schedule: HolidaySchedule,
    *,
    actor: Principal,
    via: str,
) -> HolidayImportRead:
    existing = repository.days_of(uow.session, [calendar.id])
    in_year = [d.date for d in existing if d.date.year == schedule.year]
    repository.delete_days(uow.session, calendar.id, in_year)
    uow.session.flush()
    entries = [(day, DayKind.holiday, name, None) for day, name in schedule.holidays.items()]
    entries += [
        (day, DayKind.makeup_workday, name, None) for day, name in schedule.makeup_workdays.items()
    ]
    _replace_days(uow, calendar, entries, actor=actor, via=via, region=schedule.region)
    return HolidayImportRead(
        calendar=_read(uow, calendar),
        region=schedule.region,
        year=schedule.year,
        holidays=len(schedule.holidays),
        makeup_workdays=len(schedule.makeup_workdays),
    )


def _replace_days(
    uow: UnitOfWork,
    calendar: BusinessCalendar,
    entries: Sequence[tuple[date, DayKind, str, list[str] | None]],
    *,
    actor: Principal,
    via: str,
    region: str | None = None,
) -> None:
    """Put ``entries`` in place of the calendar's days on the same dates, after checking that
    the calendar still computes."""
    dates = {entry[0] for entry in entries}
    kept = [d for d in repository.days_of(uow.session, [calendar.id]) if d.date not in dates]
    specs = _specs(kept) + [
        CalendarDaySpec(
            date=day,
            kind=kind,
            hours=parse_day_hours(hours, str(day)) if hours else None,
        )
        for day, kind, _name, hours in entries
    ]
    _validate(calendar.time_zone, calendar.weekly_hours, specs)
    repository.delete_days(uow.session, calendar.id, sorted(dates))
    uow.session.flush()
    uow.session.add_all(
        CalendarDay(calendar_id=calendar.id, date=day, kind=kind.value, name=name, hours=hours)
        for day, kind, name, hours in sorted(entries)
    )
    calendar.updated_at = uow.clock.now()
    uow.session.flush()
    detail: dict[str, Any] = {
        "days": len(entries),
        "holidays": sum(1 for e in entries if e[1] is DayKind.holiday),
        "makeup_workdays": sum(1 for e in entries if e[1] is DayKind.makeup_workday),
    }
    if region is not None:
        detail["region"] = region
    _record(
        uow,
        calendar.id,
        action="sla.calendar_days_set",
        actor=actor,
        via=via,
        changes=[Change("days", None, detail)],
    )
    _changed(uow)
