"""What routing learns from agents: a correction of a field routing decided.

When an agent changes the type, priority or team of a ticket, the change is recorded as a
manual decision; when the value it replaces was decided by a rule or by the classifier (or the
ticket waited in triage for a team), the pair (predicted, corrected) is also stored in
``routing_feedback`` for the classifier's next training. Changes by the system or customers
teach nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.routing import repository
from closeloop.routing.domain import DecisionSource, RoutedField
from closeloop.routing.models import RoutingFeedback
from closeloop.routing.schemas import FeedbackRead
from closeloop.routing.service._common import record_decision
from closeloop.tickets import service as tickets

# The ticket fields (``TicketUpdated.fields``) that are corrections of a routed field.
_FIELDS = {"type": RoutedField.type, "priority": RoutedField.priority}
_AUTOMATIC = frozenset({DecisionSource.rule.value, DecisionSource.model.value})


def learn_from_fields(
    uow: UnitOfWork, *, ticket_id: int, fields: Iterable[str], agent_id: int | None
) -> None:
    """An agent changed fields of the ticket (type and priority; teams come through
    :func:`learn_from_team`)."""
    changed = [_FIELDS[name] for name in fields if name in _FIELDS]
    if agent_id is None or not changed:
        return
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    values = {RoutedField.type: ticket.type, RoutedField.priority: ticket.priority}
    for routed in changed:
        _correction(uow, ticket_id, routed, values[routed], agent_id)


def learn_from_team(
    uow: UnitOfWork, *, ticket_id: int, team_id: int | None, agent_id: int | None
) -> None:
    """An agent moved the ticket to another team."""
    if agent_id is None or team_id is None:
        return
    _correction(uow, ticket_id, RoutedField.team, team_id, agent_id)


def _correction(
    uow: UnitOfWork, ticket_id: int, routed: RoutedField, corrected: object, agent_id: int
) -> None:
    latest = repository.latest_decision(uow.session, ticket_id, routed.value)
    record_decision(
        uow,
        ticket_id=ticket_id,
        field=routed,
        value=corrected,
        source=DecisionSource.manual,
        detail=f"corrected by agent {agent_id}",
    )
    corrected_text = str(corrected)
    if latest is not None and latest.source in _AUTOMATIC:
        if latest.value == corrected_text:
            return
        source, predicted = latest.source, latest.value
        rule_id, model_id = latest.rule_id, latest.model_id
    elif routed is RoutedField.team and latest is None and _was_triaged(uow, ticket_id):
        source, predicted, rule_id, model_id = "triage", None, None, None
    else:
        return
    uow.session.add(
        RoutingFeedback(
            ticket_id=ticket_id,
            field=routed.value,
            predicted=predicted,
            corrected=corrected_text,
            source=source,
            rule_id=rule_id,
            model_id=model_id,
            agent_id=agent_id,
            at=uow.clock.now(),
        )
    )


def _was_triaged(uow: UnitOfWork, ticket_id: int) -> bool:
    state = repository.ticket_state(uow.session, ticket_id)
    return state is not None and state.triaged_at is not None


def list_feedback(
    uow: UnitOfWork, *, after_id: int = 0, limit: int = 1000
) -> Sequence[FeedbackRead]:
    """Corrections in the order they were made, after the one with ``after_id`` (for the
    classifier's retraining; the caller decides who may read them)."""
    return [
        FeedbackRead(
            id=row.id,
            ticket_id=row.ticket_id,
            field=row.field,
            predicted=row.predicted,
            corrected=row.corrected,
            source=row.source,
            rule_id=row.rule_id,
            model_id=row.model_id,
            agent_id=row.agent_id,
            at=row.at,
        )
        for row in repository.feedback_after(uow.session, after_id=after_id, limit=limit)
    ]
