"""Queries on macros."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from closeloop.tickets.macros.models import Macro


def get(session: Session, macro_id: int) -> Macro | None:
    return session.get(Macro, macro_id)


def usable_by(
    session: Session,
    *,
    agent_id: int | None,
    team_ids: Collection[int],
    include_inactive: bool = False,
) -> Sequence[Macro]:
    """Global macros, those of ``team_ids`` and the agent's personal ones, by title."""
    visible = [Macro.scope == "global"]
    if team_ids:
        visible.append(and_(Macro.scope == "team", Macro.team_id.in_(list(team_ids))))
    if agent_id is not None:
        visible.append(and_(Macro.scope == "personal", Macro.owner_agent_id == agent_id))
    query = select(Macro).where(or_(*visible))
    if not include_inactive:
        query = query.where(Macro.is_active.is_(True))
    return session.scalars(query.order_by(Macro.title, Macro.id)).all()


def every(session: Session, *, scope: str | None = None) -> Sequence[Macro]:
    query = select(Macro)
    if scope is not None:
        query = query.where(Macro.scope == scope)
    return session.scalars(query.order_by(Macro.title, Macro.id)).all()
