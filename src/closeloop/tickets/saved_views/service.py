"""Saved views: an agent keeps a preset of the ticket list, alone or with a team.

Anyone who can see a view opens it (its owner, the members and leads of the team it is shared
with); only its owner or an administrator changes or deletes it. A view another agent may not
see does not exist for them. The filters are cleaned on the way in (unknown values dropped),
and "me" / "my teams" in them mean whoever opens the view.
"""

from __future__ import annotations

from collections.abc import Sequence

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.tickets.saved_views import permissions, repository
from closeloop.tickets.saved_views.domain import (
    ViewPreset,
    clean_columns,
    clean_sort,
    filters_from_document,
)
from closeloop.tickets.saved_views.errors import (
    SavedViewChangeDenied,
    SavedViewNotFound,
    SavedViewShareDenied,
)
from closeloop.tickets.saved_views.models import SavedView
from closeloop.tickets.saved_views.schemas import SavedViewCreate, SavedViewUpdate

ENTITY = "saved_view"


def list_saved_views(uow: UnitOfWork, *, actor: Principal) -> Sequence[SavedView]:
    """The views ``actor`` sees in their navigation: their own and their teams' (by name)."""
    if not permissions.can_have_views(actor):
        return []
    assert actor.id is not None
    return repository.visible(uow.session, agent_id=actor.id, team_ids=permissions.teams_of(actor))


def get_saved_view(uow: UnitOfWork, *, view_id: int, actor: Principal) -> SavedView:
    """A view ``actor`` sees; administrators reach every view (to tidy up shared ones)."""
    view: SavedView | None = None
    if actor.is_admin:
        view = repository.get(uow.session, view_id)
    elif permissions.can_have_views(actor):
        assert actor.id is not None
        view = repository.get_visible(
            uow.session, view_id, agent_id=actor.id, team_ids=permissions.teams_of(actor)
        )
    if view is None:
        raise SavedViewNotFound(view_id=view_id)
    return view


def preset_of(view: SavedView) -> ViewPreset:
    return ViewPreset(
        filters=filters_from_document(view.filters),
        sort=clean_sort(view.sort),
        columns=clean_columns(view.columns),
    )


def _check_team(uow: UnitOfWork, team_id: int | None, actor: Principal) -> None:
    if team_id is None:
        return
    if not permissions.can_share_with(actor, team_id):
        raise SavedViewShareDenied()
    accounts.get_team(uow, team_id)


def create_saved_view(
    uow: UnitOfWork, *, data: SavedViewCreate, actor: Principal, via: str
) -> SavedView:
    if not permissions.can_have_views(actor):
        raise SavedViewChangeDenied()
    assert actor.id is not None
    _check_team(uow, data.team_id, actor)
    now = uow.clock.now()
    view = SavedView(
        owner_id=actor.id,
        team_id=data.team_id,
        name=data.name,
        filters=filters_from_document(data.filters).to_document(),
        columns=list(clean_columns(data.columns)),
        sort=clean_sort(data.sort),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(view)
    uow.session.flush()
    _record(
        uow,
        view,
        action="saved_view.created",
        actor=actor,
        via=via,
        changes=[Change("name", None, view.name), Change("team_id", None, view.team_id)],
        new_entity=True,
    )
    return view


def update_saved_view(
    uow: UnitOfWork, *, view_id: int, data: SavedViewUpdate, actor: Principal, via: str
) -> SavedView:
    view = _for_change(uow, view_id, actor)
    values = data.given()
    if "team_id" in values and values["team_id"] != view.team_id:
        _check_team(uow, values["team_id"], actor)
    if "filters" in values:
        values["filters"] = filters_from_document(values["filters"]).to_document()
    if "columns" in values:
        values["columns"] = list(clean_columns(values["columns"]))
    if "sort" in values:
        values["sort"] = clean_sort(values["sort"])
    changes: list[Change] = []
    for name, value in values.items():
        if getattr(view, name) != value:
            changes.append(Change(name, getattr(view, name), value))
            setattr(view, name, value)
    if not changes:
        return view
    view.updated_at = uow.clock.now()
    uow.session.flush()
    _record(uow, view, action="saved_view.updated", actor=actor, via=via, changes=changes)
    return view


def delete_saved_view(uow: UnitOfWork, *, view_id: int, actor: Principal, via: str) -> None:
    view = _for_change(uow, view_id, actor)
    _record(
        uow,
        view,
        action="saved_view.deleted",
        actor=actor,
        via=via,
        changes=[Change("name", view.name, None)],
    )
    uow.session.delete(view)
    uow.session.flush()


def _for_change(uow: UnitOfWork, view_id: int, actor: Principal) -> SavedView:
    get_saved_view(uow, view_id=view_id, actor=actor)  # not visible: not found
    view = repository.get_for_update(uow.session, view_id)
    if view is None:
        raise SavedViewNotFound(view_id=view_id)
    if not permissions.can_change(actor, view):
        raise SavedViewChangeDenied()
    return view


def _record(
    uow: UnitOfWork,
    view: SavedView,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=view.id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )
