"""Pydantic shapes of SLA settings, clocks and reports on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from closeloop.accounts.domain import CustomerTier
from closeloop.kit.schemas import Strict
from closeloop.sla.clock import TargetKind, TargetState
from closeloop.sla.domain import DayKind, EscalationAction, FiringOutcome
from closeloop.tickets.domain import Channel, Priority, TicketType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Interval = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Preset = Literal["24x7", "7x12", "weekdays"]
WeeklyHours = dict[str, list[Interval]]
# One year of minutes: a longer target is a typing mistake.
TargetMinutes = Annotated[int, Field(gt=0, le=525_600)]


# --- calendars ----------------------------------------------------------------------------


class CalendarDayRead(BaseModel):
    id: int
    date: date
    kind: DayKind
    name: str
    hours: list[str] | None


class CalendarRead(BaseModel):
    id: int
    name: str
    time_zone: str
    weekly_hours: dict[str, list[str]]
    is_default: bool
    days: list[CalendarDayRead]
    created_at: datetime
    updated_at: datetime


class CalendarCreate(Strict):
    """Working hours as a ``preset`` or per weekday: ``{"mon": ["09:00-12:00", ...]}``."""

    name: Name
    time_zone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = (
        Field(None, description="An IANA zone; the organisation's zone when left out.")
    )
    preset: Preset | None = None
    weekly_hours: WeeklyHours | None = None
    is_default: bool = False

    @model_validator(mode="after")
    def _one_source_of_hours(self) -> CalendarCreate:
        if (self.preset is None) == (self.weekly_hours is None):
            raise ValueError("give exactly one of preset or weekly_hours")
        return self


class CalendarUpdate(Strict):
    name: Name | None = None
    time_zone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    preset: Preset | None = None
    weekly_hours: WeeklyHours | None = None
    is_default: Literal[True] | None = Field(
        None, description="Make this the default calendar (the others stop being default)."
    )

    @model_validator(mode="after")
    def _at_most_one_source_of_hours(self) -> CalendarUpdate:
        if self.preset is not None and self.weekly_hours is not None:
            raise ValueError("give at most one of preset or weekly_hours")
        return self


class CalendarDayCreate(Strict):
    date: date
    kind: DayKind
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    hours: list[Interval] | None = Field(
        None, description="Make-up workdays only; the usual weekday hours when left out."
    )

    @model_validator(mode="after")
    def _hours_for_makeup_only(self) -> CalendarDayCreate:
        if self.hours is not None and self.kind is DayKind.holiday:
            raise ValueError("a holiday has no working hours")
        return self


class BundledScheduleApply(Strict):
    region: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,8}$")] = "CN"
    year: Annotated[int, Field(ge=2000, le=2100)]


class HolidayImportRead(BaseModel):
    calendar: CalendarRead
    region: str
    year: int
    holidays: int
    makeup_workdays: int


# --- policies -----------------------------------------------------------------------------


class ConditionsIn(Strict):
    """Every list is optional; a ticket matches when each given list contains its value."""

    priorities: list[Priority] = []
    types: list[TicketType] = []
    channels: list[Channel] = []
    customer_tiers: list[CustomerTier] = []
    company_ids: list[int] = []
    team_ids: list[int] = []
    tags: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)
    ] = []


class TargetIn(Strict):
    priority: Priority
    kind: TargetKind
    minutes: TargetMinutes
    business_time: bool = True


class TargetRead(BaseModel):
    priority: Priority
    kind: TargetKind
    minutes: int
    business_time: bool


class EscalationStepIn(Strict):
    """Fires at a fraction of the target (0 < f < 1) or some minutes after the breach (0: at
    the breach). ``reassign_team`` needs the ``team_id`` to hand the ticket to."""

    kind: TargetKind
    at_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    after_breach_minutes: Annotated[int, Field(ge=0, le=525_600)] | None = None
    action: EscalationAction
    team_id: int | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> EscalationStepIn:
        if (self.at_fraction is None) == (self.after_breach_minutes is None):
            raise ValueError("give exactly one of at_fraction and after_breach_minutes")
        if (self.action is EscalationAction.reassign_team) != (self.team_id is not None):
            raise ValueError("team_id is given for reassign_team, and only for it")
        return self


class EscalationStepRead(BaseModel):
    kind: TargetKind
    position: int
    at_fraction: float | None
    after_breach_minutes: int | None
    action: EscalationAction
    team_id: int | None


PausedStatuses = dict[TargetKind, list[str]]
WarningFractions = Annotated[list[Annotated[float, Field(gt=0, lt=1)]], Field(max_length=5)]


class PolicyCreate(Strict):
    name: Name
    is_active: bool = True
    position: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Where it is tried; after the others when left out."
    )
    calendar_id: int | None = Field(None, description="The default calendar when left out.")
    conditions: ConditionsIn = ConditionsIn()
    paused_statuses: PausedStatuses = Field(
        default_factory=dict,
        description='Statuses that stop a kind\'s clock, e.g. {"resolution": '
        '["pending:customer"]}; a kind left out keeps its default.',
    )
    warning_fractions: WarningFractions = [0.75]
    targets: Annotated[list[TargetIn], Field(max_length=12)] = []
    escalations: Annotated[list[EscalationStepIn], Field(max_length=30)] = Field(
        [], description="The ladder, in order per target kind (the order is the position)."
    )


class PolicyUpdate(Strict):
    """Only the fields given change; ``targets`` and ``escalations`` replace the whole list
    (send the steps in their new order to reorder a ladder)."""

    name: Name | None = None
    is_active: bool | None = None
    calendar_id: int | None = None
    conditions: ConditionsIn | None = None
    paused_statuses: PausedStatuses | None = None
    warning_fractions: WarningFractions | None = None
    targets: Annotated[list[TargetIn], Field(max_length=12)] | None = None
    escalations: Annotated[list[EscalationStepIn], Field(max_length=30)] | None = None


class PolicyRead(BaseModel):
    id: int
    name: str
    position: int
    is_active: bool
    calendar_id: int | None
    conditions: dict[str, list[Any]]
    paused_statuses: dict[TargetKind, list[str]]
    warning_fractions: list[float]
    targets: list[TargetRead]
    escalations: list[EscalationStepRead]
    created_at: datetime
    updated_at: datetime


class PolicyReorder(Strict):
    policy_ids: Annotated[list[int], Field(min_length=1, max_length=500)] = Field(
        description="Every policy, in the order they are tried."
    )


class MatchRequest(Strict):
    """A ticket (``ticket_id``) or its attributes; given attributes override the ticket's."""

    ticket_id: int | None = None
    priority: Priority | None = None
    type: TicketType | None = None
    channel: Channel | None = None
    customer_tier: CustomerTier | None = None
    company_id: int | None = None
    team_id: int | None = None
    tags: list[str] | None = None

    @model_validator(mode="after")
    def _enough_to_match(self) -> MatchRequest:
        if self.ticket_id is None and None in (self.priority, self.type, self.channel):
            raise ValueError("give a ticket_id, or at least priority, type and channel")
        return self


class CheckRead(BaseModel):
    field: str
    wanted: list[Any]
    actual: Any
    holds: bool


class PolicyEvaluationRead(BaseModel):
    policy_id: int
    name: str
    position: int
    is_active: bool
    matched: bool
    chosen: bool
    checks: list[CheckRead]


class MatchRead(BaseModel):
    policy_id: int | None
    policy_name: str | None
    reason: str
    facts: dict[str, Any]
    targets: list[TargetRead]
    evaluated: list[PolicyEvaluationRead]


# --- clocks and reports -------------------------------------------------------------------


class FiringRead(BaseModel):
    step: int
    action: EscalationAction
    outcome: FiringOutcome
    fired_at: datetime


class ClockRead(BaseModel):
    kind: TargetKind
    cycle: int
    policy_id: int | None
    policy_name: str | None
    target_minutes: int
    business_time: bool
    started_at: datetime
    due_at: datetime
    warning_at: datetime | None
    elapsed_seconds: float
    paused_seconds: float
    remaining_seconds: float
    state: TargetState
    met_at: datetime | None
    breached_at: datetime | None
    next_check_at: datetime | None
    escalations: list[FiringRead]


class TicketSlaRead(BaseModel):
    ticket_id: int
    due_at: datetime | None
    state: TargetState | None
    clocks: list[ClockRead]


AttainmentGroupBy = Literal["policy", "target", "team", "priority"]


class AttainmentGroupRead(BaseModel):
    key: str | int | None
    label: str | None
    met: int
    breached: int
    total: int
    attainment: float | None = Field(description="met / (met + breached); null when none ended.")


class AttainmentRead(BaseModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    group_by: AttainmentGroupBy
    met: int
    breached: int
    total: int
    attainment: float | None
    groups: list[AttainmentGroupRead]

    model_config = ConfigDict(populate_by_name=True)


class SeedResult(BaseModel):
    calendar_id: int
    policy_id: int
    created_calendar: bool
    created_policy: bool
