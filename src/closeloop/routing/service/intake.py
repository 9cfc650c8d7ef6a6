"""Triage of a new ticket: type, priority and team, then an agent.

For each of type, priority and team that the opener did not give: the classifier's prediction
when it reaches the field's threshold, otherwise what the first matching rule sets; a ticket
that ends up without a team waits in the triage queue. Then the team's strategy picks an agent
(unless the opener named one). Every decision is written to ``routing_decisions`` and the
ticket's timeline with its source: the rule, the model with its confidence, or the assigner.

Runs inside the transaction that opened the ticket (a handler of ``TicketOpened``). Deciding
only reads; the changes go through ``tickets.service.update_fields`` as the system in a
savepoint, so a change the ticket refuses (say, a type whose custom fields are missing) leaves
the ticket as it was opened, in the triage queue, and never loses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.errors import TeamNotFound
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import DomainError
from closeloop.kit.logging import get_logger
from closeloop.routing.domain import DecisionSource, RoutedField, is_vip
from closeloop.routing.models import RoutingDecision
from closeloop.routing.rules import Decision, evaluate
from closeloop.routing.service._common import (
    VIA_INTAKE,
    TicketRecord,
    decision_change,
    facts_for,
    record_decision,
    record_on_ticket,
    ticket_state,
)
from closeloop.routing.service.assignment import choose_for_team, describe_choice
from closeloop.routing.service.predictions import Guess, confident_predictions
from closeloop.routing.service.rules import stored_rules
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Priority, TicketType
from closeloop.tickets.schemas import TicketUpdate

log = get_logger(__name__)

# The ``TicketCreate`` name of each field triage decides.
_GIVEN_NAMES = {
    RoutedField.type: "type",
    RoutedField.priority: "priority",
    RoutedField.team: "team_id",
    RoutedField.assignee: "assignee_id",
}


@dataclass(slots=True)
class _Pending:
    """One decision to record once the change is applied."""

    field: RoutedField
    value: Any
    source: DecisionSource
    rule_id: int | None = None
    model_id: int | None = None
    confidence: float | None = None
    detail: str = ""


@dataclass(slots=True)
class _Plan:
    changes: dict[str, Any] = field(default_factory=dict)
    decisions: list[_Pending] = field(default_factory=list)
    required_skills: dict[int, int] = field(default_factory=dict)
    triage_reason: str | None = None


def triage_ticket(uow: UnitOfWork, *, ticket_id: int, given_fields: Iterable[str]) -> None:
    """Decide and apply type, priority, team and assignee of a ticket just opened."""
    given = frozenset(given_fields)
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    _record_given(uow, ticket, given)
    try:
        plan = _decide(uow, ticket, given)
    except Exception:
        log.exception("routing.intake_failed", ticket_id=ticket_id)
        plan = _Plan(triage_reason="routing_failed" if ticket.team_id is None else None)
    if plan.changes and not _apply(uow, ticket, plan):
        plan = _Plan(triage_reason="change_refused" if ticket.team_id is None else None)
    # Every value of the state is set before the next flush: a new row is one INSERT.
    state = ticket_state(uow, ticket_id, flush=False)
    if plan.required_skills:
        state.required_skills = {str(k): v for k, v in sorted(plan.required_skills.items())}
    now = uow.clock.now()
    if plan.triage_reason is not None:
        state.in_triage, state.triage_reason, state.triaged_at = True, plan.triage_reason, now
    state.updated_at = now
    recorded = [_save(uow, ticket_id, pending) for pending in plan.decisions]
    if recorded:
        uow.session.flush()
        record_on_ticket(
            uow,
            ticket_id,
            action="routing.decided",
            changes=[decision_change(d) for d in recorded],
            via=VIA_INTAKE,
        )
    if plan.triage_reason is not None:
        record_on_ticket(
            uow,
            ticket_id,
            action="routing.triaged",
            changes=[Change("team", None, {"reason": plan.triage_reason})],
            via=VIA_INTAKE,
        )


def _record_given(uow: UnitOfWork, ticket: TicketRecord, given: frozenset[str]) -> None:
    """What the opener chose is a manual decision (kept in the table, already in the
    timeline as part of ``ticket.created``)."""
    values = {
        RoutedField.type: ticket.type,
        RoutedField.priority: ticket.priority,
        RoutedField.team: ticket.team_id,
        RoutedField.assignee: ticket.assignee_id,
    }
    for routed, name in _GIVEN_NAMES.items():
        if name in given and values[routed] is not None:
            record_decision(
                uow,
                ticket_id=ticket.id,
                field=routed,
                value=values[routed],
                source=DecisionSource.manual,
                detail="given when opened",
            )


def _decide(uow: UnitOfWork, ticket: TicketRecord, given: frozenset[str]) -> _Plan:
    plan = _Plan()
    undecided = frozenset(f for f in RoutedField if _GIVEN_NAMES[f] not in given)
    if ticket.team_id is not None:
        undecided -= {RoutedField.team}
    facts = facts_for(uow, ticket)
    guesses = confident_predictions(
        uow,
        subject=ticket.subject,
        description=ticket.description,
        fields=undecided & {RoutedField.type, RoutedField.priority, RoutedField.team},
    )
    decision = evaluate(stored_rules(uow, active_only=True), facts)
    current: dict[RoutedField, Any] = {
        RoutedField.type: ticket.type,
        RoutedField.priority: ticket.priority,
        RoutedField.team: ticket.team_id,
    }
    for routed in (RoutedField.type, RoutedField.priority, RoutedField.team):
        if routed not in undecided:
            continue
        chosen = _from_model(uow, routed, guesses.get(routed)) or _from_rule(routed, decision)
        if chosen is None:
            continue
        if chosen.value != current[routed]:
            plan.changes[_GIVEN_NAMES[routed]] = chosen.value
            current[routed] = chosen.value
        plan.decisions.append(chosen)
    if decision.actions is not None:
        if decision.actions.add_tags:
            plan.changes["tags"] = [*ticket.tags, *decision.actions.add_tags]
        plan.required_skills = dict(decision.actions.required_skills)
    team_id = current[RoutedField.team]
    if team_id is None:
        plan.triage_reason = "no_rule_or_prediction"
    elif RoutedField.assignee in undecided and ticket.assignee_id is None:
        vip = is_vip(customer_tier=facts.customer_tier, company_tier=facts.company_tier)
        strategy, choice = choose_for_team(
            uow,
            team_id=team_id,
            priority=current[RoutedField.priority],
            vip=vip,
            required_skills=plan.required_skills,
        )
        detail = describe_choice(strategy, choice)
        plan.decisions.append(
            _Pending(RoutedField.assignee, choice.agent_id, DecisionSource.assigner, detail=detail)
        )
        if choice.agent_id is not None:
            plan.changes["assignee_id"] = choice.agent_id
    return plan


def _from_model(uow: UnitOfWork, routed: RoutedField, guess: Guess | None) -> _Pending | None:
    if guess is None:
        return None
    value = _label_value(uow, routed, guess.label)
    if value is None:
        log.warning("routing.unknown_label", field=routed.value, label=guess.label)
        return None
    return _Pending(
        routed,
        value,
        DecisionSource.model,
        model_id=guess.model_id,
        confidence=guess.confidence,
        detail=f"threshold {guess.threshold:g}",
    )


def _from_rule(routed: RoutedField, decision: Decision) -> _Pending | None:
    if decision.actions is None:
        return None
    value = {
        RoutedField.type: decision.actions.type,
        RoutedField.priority: decision.actions.priority,
        RoutedField.team: decision.actions.team_id,
    }[routed]
    if value is None:
        return None
    return _Pending(
        routed,
        value,
        DecisionSource.rule,
        rule_id=decision.rule_id,
        detail=decision.rule_name or "",
    )


def _label_value(uow: UnitOfWork, routed: RoutedField, label: str) -> Any:
    """The field value a classifier label stands for (a team by id or by name), or None."""
    if routed is RoutedField.type:
        return label if label in {t.value for t in TicketType} else None
    if routed is RoutedField.priority:
        return label if label in {p.value for p in Priority} else None
    if label.isdigit():
        try:
            team = accounts.get_team(uow, int(label))
        except TeamNotFound:
            return None
        return team.id if team.is_active else None
    wanted = label.strip().casefold()
    for team in management.list_teams(uow, actor=SYSTEM, is_active=True):
        if team.name.casefold() == wanted:
            return team.id
    return None


def _apply(uow: UnitOfWork, ticket: TicketRecord, plan: _Plan) -> bool:
    """Make the changes as the system; False when the ticket refused them (nothing changed)."""
    try:
        with uow.session.begin_nested():
            tickets.update_fields(
                uow,
                ticket_id=ticket.id,
                data=TicketUpdate(**plan.changes),
                expected_version=ticket.version,
                actor=SYSTEM,
                via=VIA_INTAKE,
            )
    except DomainError as error:
        log.warning("routing.intake_refused", ticket_id=ticket.id, code=error.code)
        return False
    return True


def _save(uow: UnitOfWork, ticket_id: int, pending: _Pending) -> RoutingDecision:
    return record_decision(
        uow,
        ticket_id=ticket_id,
        field=pending.field,
        value=pending.value,
        source=pending.source,
        rule_id=pending.rule_id,
        model_id=pending.model_id,
        confidence=pending.confidence,
        detail=pending.detail,
    )
