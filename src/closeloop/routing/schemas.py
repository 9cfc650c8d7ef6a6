"""Pydantic shapes of routing on the wire (shared by api/ and web/).

Inputs refuse unknown fields. In the ``*Update`` shapes only the fields present change; null is
accepted only where it clears something.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from closeloop.kit.schemas import PartialUpdate, Strict
from closeloop.routing.domain import AgentStatus, DecisionSource, Strategy
from closeloop.routing.models import RoutingRule, RoutingSettings, TeamRouting
from closeloop.routing.rules import MAX_CONDITIONS, Decision, MatchMode, Operator
from closeloop.tickets.domain import Channel, Priority, TicketStatus, TicketType
from closeloop.tickets.schemas import TicketRead

RuleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
FieldName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Scalar = Annotated[str, StringConstraints(max_length=500)] | int | float
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
TimeZoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SkillLevel = Annotated[int, Field(ge=1, le=5)]


# --- rules ----------------------------------------------------------------------------------


class ConditionIn(Strict):
    field: FieldName = Field(
        description="subject, body, text (both), type, priority, channel, status, team_id, "
        "tags, customer.tier, company.tier, company.id, company.name or custom.<key>"
    )
    operator: Operator
    value: Scalar | list[Scalar] = Field(
        description="One value; a list for `in`, or keywords (any of them) for `contains`; "
        "a regular expression for `matches`."
    )
    negate: bool = Field(False, description="Match when the condition does not hold (not).")


class ActionsIn(Strict):
    type: TicketType | None = None
    priority: Priority | None = None
    team_id: int | None = None
    add_tags: Annotated[list[Tag], Field(max_length=30)] = []
    required_skills: dict[int, SkillLevel] = Field(
        {}, description="Skill id → the least level the ticket needs (skills strategy)."
    )


class RuleCreate(Strict):
    name: RuleName
    match: MatchMode = MatchMode.all
    conditions: Annotated[list[ConditionIn], Field(max_length=MAX_CONDITIONS)] = []
    actions: ActionsIn
    is_active: bool = True
    position: int | None = Field(None, ge=1, description="1 is first; by default the last.")


class RuleUpdate(PartialUpdate):
    name: RuleName | None = None
    match: MatchMode | None = None
    conditions: Annotated[list[ConditionIn], Field(max_length=MAX_CONDITIONS)] | None = None
    actions: ActionsIn | None = None
    is_active: bool | None = None


class RuleRead(BaseModel):
    id: int
    position: int
    name: str
    match: MatchMode
    conditions: list[dict[str, Any]]
    actions: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: RoutingRule) -> RuleRead:
        return cls(
            id=rule.id,
            position=rule.position,
            name=rule.name,
            match=MatchMode(rule.match),
            conditions=list(rule.conditions),
            actions=dict(rule.actions),
            is_active=rule.is_active,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RuleOrder(Strict):
    rule_ids: Annotated[list[int], Field(description="Every rule's id, first to last.")]


class DryRunTicket(Strict):
    """A ticket as it would come in; customer and company are looked up by id when given."""

    subject: Annotated[str, StringConstraints(max_length=300)] = ""
    description: Annotated[str, StringConstraints(max_length=100_000)] = ""
    type: TicketType = TicketType.inquiry
    priority: Priority = Priority.P3
    channel: Channel = Channel.api
    status: TicketStatus = TicketStatus.new
    team_id: int | None = None
    tags: list[Tag] = []
    custom_fields: dict[str, Any] = {}
    requester_id: int | None = None
    company_id: int | None = None


class DryRunRequest(Strict):
    ticket_id: int | None = None
    ticket: DryRunTicket | None = None

    @model_validator(mode="after")
    def _one_ticket(self) -> Self:
        if (self.ticket_id is None) == (self.ticket is None):
            raise ValueError("give either ticket_id or ticket")
        return self


class ConditionTraceRead(BaseModel):
    field: str
    operator: Operator
    value: Any
    negate: bool
    matched: bool
    actual: Any = Field(None, description="The ticket's value (not shown for long text).")
    found: str | None = Field(None, description="The keyword or text that matched.")


class RuleTraceRead(BaseModel):
    rule_id: int
    name: str
    is_active: bool
    matched: bool
    fired: bool
    conditions: list[ConditionTraceRead]


class DryRunRead(BaseModel):
    fired_rule_id: int | None
    fired_rule_name: str | None
    actions: dict[str, Any] | None
    rules: list[RuleTraceRead]

    @classmethod
    def of(cls, decision: Decision) -> DryRunRead:
        return cls(
            fired_rule_id=decision.rule_id,
            fired_rule_name=decision.rule_name,
            actions=decision.actions.as_dict() if decision.actions else None,
            rules=[
                RuleTraceRead(
                    rule_id=result.rule_id,
                    name=result.name,
                    is_active=result.is_active,
                    matched=result.matched,
                    fired=result.fired,
                    conditions=[
                        ConditionTraceRead(
                            field=c.field,
                            operator=c.operator,
                            value=c.value,
                            negate=c.negate,
                            matched=c.matched,
                            actual=c.actual,
                            found=c.found,
                        )
                        for c in result.conditions
                    ],
                )
                for result in decision.results
            ],
        )


# --- settings, teams, agents ----------------------------------------------------------------


class RoutingSettingsRead(BaseModel):
    ping_pong_threshold: int
    escalation_team_id: int | None
    move_ping_pong: bool

    @classmethod
    def of(cls, settings: RoutingSettings) -> RoutingSettingsRead:
        return cls(
            ping_pong_threshold=settings.ping_pong_threshold,
            escalation_team_id=settings.escalation_team_id,
            move_ping_pong=settings.move_ping_pong,
        )


class RoutingSettingsUpdate(PartialUpdate):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"escalation_team_id"})

    ping_pong_threshold: int | None = Field(
        None, ge=0, le=50, description="Transfers that make a ticket ping-pong; 0 switches off."
    )
    escalation_team_id: int | None = None
    move_ping_pong: bool | None = Field(
        None, description="Move ping-pong tickets to the escalation team instead of suggesting."
    )


class TeamRoutingRead(BaseModel):
    team_id: int
    strategy: Strategy
    is_triage_team: bool
    updated_at: datetime | None

    @classmethod
    def of(cls, routing: TeamRouting) -> TeamRoutingRead:
        return cls(
            team_id=routing.team_id,
            strategy=Strategy(routing.strategy),
            is_triage_team=routing.is_triage_team,
            updated_at=routing.updated_at,
        )


class TeamRoutingUpdate(PartialUpdate):
    strategy: Strategy | None = None
    is_triage_team: bool | None = Field(
        None, description="Members of a triage team work the triage queue."
    )


class ShiftIn(Strict):
    weekday: int = Field(ge=0, le=6, description="0 is Monday.")
    start: time
    end: time = Field(description="Before start: the shift runs past midnight.")
    time_zone: TimeZoneText | None = Field(None, description="By default the organisation's.")


class ShiftRead(BaseModel):
    weekday: int
    start: time
    end: time
    time_zone: str


class ShiftsReplace(Strict):
    shifts: Annotated[list[ShiftIn], Field(max_length=50)]


class AvailabilityRead(BaseModel):
    agent_id: int
    status: AgentStatus
    capacity: int
    max_concurrent: int
    last_assigned_at: datetime | None
    updated_at: datetime | None
    shifts: list[ShiftRead]


class AvailabilityUpdate(PartialUpdate):
    status: AgentStatus | None = None
    capacity: int | None = Field(None, ge=1, le=500, description="Weighted load (P1=4 … P4=1).")
    max_concurrent: int | None = Field(None, ge=1, le=500)


class AgentLoadRead(BaseModel):
    """One member of a team as the queue-by-agent view shows them."""

    agent_id: int
    name: str
    is_senior: bool
    status: AgentStatus
    available: bool
    open_tickets: int
    load: int
    capacity: int
    max_concurrent: int
    last_assigned_at: datetime | None


# --- tickets ----------------------------------------------------------------------------------


class TransferCreate(Strict):
    team_id: int
    reason: Reason
    version: int | None = Field(None, description="The version you read; or send If-Match.")


class TransferRead(BaseModel):
    id: int
    ticket_id: int
    from_team_id: int | None
    to_team_id: int | None
    reason: str
    actor_type: str
    actor_id: int | None
    actor_name: str
    at: datetime


class TransferResultRead(BaseModel):
    ticket: TicketRead
    transfer: TransferRead
    ping_pong: bool
    suggested_team_id: int | None
    moved_to_team_id: int | None = Field(
        None, description="Set when the ping-pong ticket was moved to the escalation team."
    )


class DecisionRead(BaseModel):
    field: str
    value: str | None
    source: DecisionSource
    rule_id: int | None
    model_id: int | None
    confidence: float | None
    detail: str
    at: datetime


class TicketRoutingRead(BaseModel):
    ticket_id: int
    in_triage: bool
    triage_reason: str
    triaged_at: datetime | None
    ping_pong_at: datetime | None
    suggested_team_id: int | None
    required_skills: dict[str, int]
    decisions: list[DecisionRead]
    transfers: list[TransferRead]


class NextTicketRead(BaseModel):
    ticket: TicketRead | None
    reason: str | None = Field(None, description="Why there was nothing to take.")


class TriageEntryRead(BaseModel):
    ticket: TicketRead
    triage_reason: str
    triaged_at: datetime | None


class FeedbackRead(BaseModel):
    """An agent's correction of a field routing had decided (training data)."""

    id: int
    ticket_id: int
    field: str
    predicted: str | None
    corrected: str | None
    source: str
    rule_id: int | None
    model_id: int | None
    agent_id: int | None
    at: datetime
