"""Steps shared by the routing use cases: how a ticket looks to routing, its timeline rows,
the decisions table, the organisation's settings and a ticket's routing state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.routing import permissions, repository
from closeloop.routing.domain import DEFAULT_PING_PONG_THRESHOLD, DecisionSource, RoutedField
from closeloop.routing.errors import QueueDenied
from closeloop.routing.models import RoutingDecision, RoutingSettings, TicketRouting
from closeloop.routing.rules import TicketFacts

TICKET_ENTITY = "ticket"
VIA_INTAKE = "routing:intake"
VIA_PULL = "routing:pull"
VIA_TRANSFER = "routing:transfer"
VIA_PING_PONG = "routing:ping_pong"


class TicketRecord(Protocol):
    """The parts of a ticket routing reads (the ticket model is private to tickets)."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def requester_id(self) -> int: ...
    @property
    def company_id(self) -> int | None: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def custom_fields(self) -> dict[str, Any]: ...


def record_on_ticket(
    uow: UnitOfWork,
    ticket_id: int,
    *,
    action: str,
    changes: Sequence[Change],
    via: str,
    actor: Principal = SYSTEM,
) -> None:
    """Internal rows of the ticket's timeline (agents see them, customers do not)."""
    audit.record(
        uow,
        entity_type=TICKET_ENTITY,
        entity_id=ticket_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=list(changes),
    )


def record_decision(
    uow: UnitOfWork,
    *,
    ticket_id: int,
    field: RoutedField,
    value: Any,
    source: DecisionSource,
    rule_id: int | None = None,
    model_id: int | None = None,
    confidence: float | None = None,
    detail: str = "",
) -> RoutingDecision:
    decision = RoutingDecision(
        ticket_id=ticket_id,
        field=field.value,
        value=None if value is None else str(value),
        source=source.value,
        rule_id=rule_id,
        model_id=model_id,
        confidence=confidence,
        detail=detail[:200],
        at=uow.clock.now(),
    )
    uow.session.add(decision)
    return decision


def decision_change(decision: RoutingDecision) -> Change:
    """How a decision reads in the timeline: the field, and what decided it."""
    why: dict[str, Any] = {"value": decision.value, "source": decision.source}
    if decision.rule_id is not None:
        why["rule_id"] = decision.rule_id
    if decision.model_id is not None:
        why["model_id"] = decision.model_id
    if decision.confidence is not None:
        why["confidence"] = round(decision.confidence, 4)
    if decision.detail:
        why["detail"] = decision.detail
    return Change(decision.field, None, why)


def routing_settings(uow: UnitOfWork, *, for_update: bool = False) -> RoutingSettings:
    found = repository.settings(uow.session, for_update=for_update)
    if found is not None:
        return found
    created = RoutingSettings(
        ping_pong_threshold=DEFAULT_PING_PONG_THRESHOLD,
        escalation_team_id=None,
        move_ping_pong=False,
        updated_at=uow.clock.now(),
    )
    if not uow.read_only:  # a read shows the defaults; the first change saves them
        uow.session.add(created)
        uow.session.flush()
    return created


def ticket_state(uow: UnitOfWork, ticket_id: int, *, flush: bool = True) -> TicketRouting:
    """The ticket's routing state, created on first use (``flush=False``: the new row is
    inserted with the next flush, so values set before then cost no extra UPDATE)."""
    found = repository.ticket_state(uow.session, ticket_id, for_update=True)
    if found is not None:
        return found
    created = TicketRouting(
        ticket_id=ticket_id,
        in_triage=False,
        triage_reason="",
        required_skills={},
        updated_at=uow.clock.now(),
    )
    uow.session.add(created)
    if flush:
        uow.session.flush()
    return created


def leave_triage(uow: UnitOfWork, ticket_id: int) -> bool:
    """Take the ticket out of the triage queue (it has a team now); whether it was in it."""
    state = repository.ticket_state(uow.session, ticket_id, for_update=True)
    if state is None or not state.in_triage:
        return False
    state.in_triage = False
    state.updated_at = uow.clock.now()
    return True


def require_team_reader(actor: Principal, team_id: int) -> None:
    if not permissions.can_read_team(actor, team_id):
        raise QueueDenied()


def facts_for(uow: UnitOfWork, ticket: TicketRecord) -> TicketFacts:
    """What rules may look at: the ticket, its requester's tier, its company."""
    customer = accounts.get_customer(uow, ticket.requester_id)
    company_name, company_tier = None, None
    if ticket.company_id is not None:
        company = management.get_company(uow, company_id=ticket.company_id, actor=SYSTEM)
        company_name, company_tier = company.name, company.tier
    return TicketFacts(
        subject=ticket.subject,
        body=ticket.description,
        type=ticket.type,
        priority=ticket.priority,
        channel=ticket.channel,
        status=ticket.status,
        team_id=ticket.team_id,
        tags=tuple(ticket.tags),
        custom_fields=dict(ticket.custom_fields),
        customer_tier=customer.tier,
        company_id=ticket.company_id,
        company_name=company_name,
        company_tier=company_tier,
    )
