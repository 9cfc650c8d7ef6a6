"""Every query on the saved views table."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from closeloop.tickets.saved_views.models import SavedView


def _visible(agent_id: int, team_ids: Collection[int]) -> ColumnElement[bool]:
    own = SavedView.owner_id == agent_id
    if not team_ids:
        return own
    return or_(own, SavedView.team_id.in_(sorted(team_ids)))


def visible(session: Session, *, agent_id: int, team_ids: Collection[int]) -> Sequence[SavedView]:
    """The agent's own views and those shared with their teams, by name (one statement)."""
    return session.scalars(
        select(SavedView).where(_visible(agent_id, team_ids)).order_by(SavedView.name, SavedView.id)
    ).all()


def get(session: Session, view_id: int) -> SavedView | None:
    return session.get(SavedView, view_id)


def get_visible(
    session: Session, view_id: int, *, agent_id: int, team_ids: Collection[int]
) -> SavedView | None:
    return session.scalars(
        select(SavedView).where(SavedView.id == view_id, _visible(agent_id, team_ids))
    ).first()


def get_for_update(session: Session, view_id: int) -> SavedView | None:
    return session.scalars(
        select(SavedView)
        .where(SavedView.id == view_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
