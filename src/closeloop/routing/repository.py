"""Every query on the routing tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from closeloop.routing.models import (
    AgentAvailability,
    AgentShift,
    RoutingDecision,
    RoutingFeedback,
    RoutingRule,
    RoutingSettings,
    TeamRouting,
    TicketRouting,
    TicketTransfer,
)

# --- rules ------------------------------------------------------------------------------------


def rules(session: Session, *, active_only: bool = False) -> Sequence[RoutingRule]:
    query = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    if active_only:
        query = query.where(RoutingRule.is_active.is_(True))
    return session.scalars(query).all()


def rules_for_update(session: Session) -> Sequence[RoutingRule]:
    """Every rule, locked (PostgreSQL): reordering and inserting never interleave."""
    return session.scalars(
        select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id).with_for_update()
    ).all()


def rule(session: Session, rule_id: int, *, for_update: bool = False) -> RoutingRule | None:
    query = select(RoutingRule).where(RoutingRule.id == rule_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


# --- settings, teams, agents ------------------------------------------------------------------


def settings(session: Session, *, for_update: bool = False) -> RoutingSettings | None:
    query = select(RoutingSettings).order_by(RoutingSettings.id).limit(1)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def team_routing(session: Session, team_id: int, *, for_update: bool = False) -> TeamRouting | None:
    query = select(TeamRouting).where(TeamRouting.team_id == team_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def triage_team_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(TeamRouting.team_id)
            .where(TeamRouting.is_triage_team.is_(True))
            .order_by(TeamRouting.team_id)
        )
    )


def availability(
    session: Session, agent_id: int, *, for_update: bool = False
) -> AgentAvailability | None:
    query = select(AgentAvailability).where(AgentAvailability.agent_id == agent_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def availabilities(session: Session, agent_ids: Sequence[int]) -> dict[int, AgentAvailability]:
    if not agent_ids:
        return {}
    rows = session.scalars(
        select(AgentAvailability).where(AgentAvailability.agent_id.in_(sorted(agent_ids)))
    )
    return {row.agent_id: row for row in rows}


def shifts_by_agent(session: Session, agent_ids: Sequence[int]) -> dict[int, list[AgentShift]]:
    found: dict[int, list[AgentShift]] = {agent_id: [] for agent_id in agent_ids}
    if agent_ids:
        for shift in session.scalars(
            select(AgentShift)
            .where(AgentShift.agent_id.in_(sorted(agent_ids)))
            .order_by(AgentShift.agent_id, AgentShift.weekday, AgentShift.start, AgentShift.id)
        ):
            found[shift.agent_id].append(shift)
    return found


def delete_shifts(session: Session, agent_id: int) -> None:
    session.execute(delete(AgentShift).where(AgentShift.agent_id == agent_id))


# --- tickets ----------------------------------------------------------------------------------


def ticket_state(
    session: Session, ticket_id: int, *, for_update: bool = False
) -> TicketRouting | None:
    query = select(TicketRouting).where(TicketRouting.ticket_id == ticket_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def triage_page(session: Session, *, offset: int, limit: int) -> list[int]:
    """Ticket ids waiting in the triage queue, the longest waiting first."""
    return list(
        session.scalars(
            select(TicketRouting.ticket_id)
            .where(TicketRouting.in_triage.is_(True))
            .order_by(TicketRouting.triaged_at, TicketRouting.ticket_id)
            .offset(offset)
            .limit(limit)
        )
    )


def decisions_of(session: Session, ticket_id: int) -> Sequence[RoutingDecision]:
    return session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.ticket_id == ticket_id)
        .order_by(RoutingDecision.id)
    ).all()


def latest_decision(session: Session, ticket_id: int, field: str) -> RoutingDecision | None:
    return session.scalars(
        select(RoutingDecision)
        .where(RoutingDecision.ticket_id == ticket_id, RoutingDecision.field == field)
        .order_by(RoutingDecision.id.desc())
        .limit(1)
    ).first()


def transfers_of(session: Session, ticket_id: int) -> Sequence[TicketTransfer]:
    return session.scalars(
        select(TicketTransfer)
        .where(TicketTransfer.ticket_id == ticket_id)
        .order_by(TicketTransfer.at, TicketTransfer.id)
    ).all()


def transfer_count(session: Session, ticket_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(TicketTransfer)
            .where(TicketTransfer.ticket_id == ticket_id)
        )
        or 0
    )


def feedback_after(session: Session, *, after_id: int, limit: int) -> Sequence[RoutingFeedback]:
    return session.scalars(
        select(RoutingFeedback)
        .where(RoutingFeedback.id > after_id)
        .order_by(RoutingFeedback.id)
        .limit(limit)
    ).all()
