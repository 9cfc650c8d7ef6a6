"""The ticket list of the agent workspace: which view, which filters, one page of rows.

A view (built-in or saved) is a preset of filters, columns and sort. The list reads the preset,
lets the URL override it (the filter form sends ``f=1`` and every field, so what the form shows
is what is listed), asks ``tickets.service.list_tickets`` for one keyset page as the signed-in
principal (exactly the API's visibility) and names requesters, teams and assignees with one
query each per page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from starlette.datastructures import URL, ImmutableMultiDict, QueryParams

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import NotFound
from closeloop.kit.i18n import LazyString, _
from closeloop.kit.pagination import InvalidCursor, decode_cursor
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import SLA_STATES, STATUS_ORDER, Priority, TicketType
from closeloop.tickets.saved_views import permissions as view_permissions
from closeloop.tickets.saved_views import service as saved_views
from closeloop.tickets.saved_views.domain import (
    COLUMNS,
    RESOLVED_WITHIN_DAYS,
    SORTS,
    BuiltinView,
    Viewer,
    ViewFilters,
    ViewPreset,
    clean_columns,
    clean_sort,
    filters_from_document,
    preset_of,
    ticket_query,
)

PAGE_SIZE = 50
# Filter parameters of the list URL; any of them (or ``f``) replaces the view's filters.
FILTER_PARAMS = (
    "f",
    "status",
    "priority",
    "type",
    "team",
    "assignee",
    "tag",
    "sla",
    "q",
    "resolved",
)

BUILTIN_LABELS: Mapping[BuiltinView, LazyString] = {
    BuiltinView.mine: _("My open tickets"),
    BuiltinView.unassigned: _("Unassigned in my teams"),
    BuiltinView.all_open: _("All open tickets"),
    BuiltinView.sla_risk: _("SLA at risk"),
    BuiltinView.overdue: _("Overdue"),
    BuiltinView.pending: _("Pending"),
    BuiltinView.recently_resolved: _("Recently resolved"),
}
ALL_TICKETS_LABEL = _("All tickets I can see")
COLUMN_LABELS: Mapping[str, LazyString] = {
    "number": _("Number"),
    "subject": _("Subject"),
    "requester": _("Requester"),
    "status": _("Status"),
    "priority": _("Priority"),
    "type": _("Type"),
    "channel": _("Channel"),
    "team": _("Team"),
    "assignee": _("Assignee"),
    "tags": _("Tags"),
    "sla": _("SLA"),
    "created": _("Created"),
    "updated": _("Updated"),
}
# Columns whose header sorts the list, and by what.
SORTABLE_COLUMNS: Mapping[str, str] = {
    "priority": "priority",
    "sla": "sla_due_at",
    "created": "-created_at",
    "updated": "-updated_at",
}
SORT_LABELS: Mapping[str, LazyString] = {
    "-updated_at": _("Recently updated"),
    "updated_at": _("Least recently updated"),
    "-created_at": _("Newest"),
    "created_at": _("Oldest"),
    "priority": _("Most urgent priority"),
    "-priority": _("Least urgent priority"),
    "sla_due_at": _("SLA due soonest"),
    "-sla_due_at": _("SLA due latest"),
}


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(
        agent_id=principal.id if principal.is_agent else None,
        team_ids=view_permissions.teams_of(principal),
        sees_all_tickets=principal.sees_all_tickets,
    )


@dataclass(frozen=True, slots=True)
class ViewRef:
    """Which view the list shows: a built-in one, a saved one, or none (all tickets)."""

    key: str  # "mine", ..., "12" for saved view 12, "" for /agent/tickets
    title: str
    path: str
    preset: ViewPreset
    saved_view_id: int | None = None
    saved_view_team_id: int | None = None
    can_change: bool = False


def resolve_view(uow: UnitOfWork, key: str, principal: Principal, locale: str) -> ViewRef:
    """The view behind ``/agent/views/<key>``; NotFound when the principal may not have it."""
    viewer = viewer_of(principal)
    if key in BuiltinView.__members__:
        builtin = BuiltinView(key)
        preset = preset_of(builtin, viewer)
        if preset is None:
            raise NotFound()
        return ViewRef(
            key=key,
            title=BUILTIN_LABELS[builtin].render(locale),
            path=f"/agent/views/{key}",
            preset=preset,
        )
    if not key.isdigit():
        raise NotFound()
    view = saved_views.get_saved_view(uow, view_id=int(key), actor=principal)
    return ViewRef(
        key=key,
        title=view.name,
        path=f"/agent/views/{view.id}",
        preset=saved_views.preset_of(view),
        saved_view_id=view.id,
        saved_view_team_id=view.team_id,
        can_change=view_permissions.can_change(principal, view),
    )


def all_tickets_view(locale: str) -> ViewRef:
    return ViewRef(
        key="",
        title=ALL_TICKETS_LABEL.render(locale),
        path="/agent/tickets",
        # Newest first, like the API: a text search then walks the search index in id order.
        preset=ViewPreset(filters=ViewFilters(), sort="-created_at"),
    )


def filters_from_params(params: ImmutableMultiDict[str, Any]) -> ViewFilters:
    """The filter form's fields as view filters (unknown values are dropped)."""

    def strings(name: str) -> list[str]:
        return [v for v in params.getlist(name) if isinstance(v, str)]

    teams = strings("team")
    assignees = strings("assignee")
    tags = [t for raw in strings("tag") for t in raw.replace("，", ",").split(",")]
    resolved = str(params.get("resolved") or "")
    return filters_from_document(
        {
            "statuses": strings("status"),
            "priorities": strings("priority"),
            "types": strings("type"),
            "team_ids": [t for t in teams if t.isdigit()],
            "my_teams": "mine" in teams,
            "assignee_ids": [a for a in assignees if a.isdigit()],
            "assigned_to_me": "me" in assignees,
            "unassigned": "none" in assignees,
            "tags": tags,
            "sla_states": strings("sla"),
            "text": str(params.get("q") or ""),
            "resolved_within_days": int(resolved) if resolved.isdigit() else None,
        }
    )


def params_of(filters: ViewFilters) -> list[tuple[str, str]]:
    """The URL parameters that reproduce ``filters`` (for links that keep them)."""
    pairs: list[tuple[str, str]] = [("f", "1")]
    pairs += [("status", s) for s in filters.statuses]
    pairs += [("priority", p) for p in filters.priorities]
    pairs += [("type", t) for t in filters.types]
    pairs += [("team", str(t)) for t in filters.team_ids]
    if filters.my_teams:
        pairs.append(("team", "mine"))
    pairs += [("assignee", str(a)) for a in filters.assignee_ids]
    if filters.assigned_to_me:
        pairs.append(("assignee", "me"))
    if filters.unassigned:
        pairs.append(("assignee", "none"))
    if filters.tags:
        pairs.append(("tag", ", ".join(filters.tags)))
    pairs += [("sla", s) for s in filters.sla_states]
    if filters.text:
        pairs.append(("q", filters.text))
    if filters.resolved_within_days is not None:
        pairs.append(("resolved", str(filters.resolved_within_days)))
    return pairs


def effective_preset(view: ViewRef, params: QueryParams) -> tuple[ViewPreset, bool]:
    """The view's preset with what the URL overrides, and whether the filters were changed."""
    changed = any(name in params for name in FILTER_PARAMS)
    filters = filters_from_params(params) if changed else view.preset.filters
    sort = clean_sort(params.get("sort"), view.preset.sort)
    columns = params.getlist("col")
    return (
        ViewPreset(
            filters=filters,
            sort=sort,
            columns=clean_columns(columns) if columns else view.preset.columns,
        ),
        changed,
    )


@dataclass(slots=True)
class Row:
    """One ticket as the list shows it."""

    id: int
    version: int
    subject: str
    status: str
    priority: str
    type: str
    channel: str
    tags: list[str]
    requester: str
    team: str
    assignee: str
    assignee_id: int | None
    sla_due_at: datetime | None
    sla_state: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Directory:
    """Names for the rows and choices for the filter and bulk forms."""

    teams: list[tuple[int, str]] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class ListPage:
    rows: list[Row]
    next_url: str | None
    directory: Directory


def _directory(
    uow: UnitOfWork, principal: Principal, assignee_ids: set[int]
) -> tuple[Directory, dict[int, str], dict[int, str]]:
    """Active teams and agents (one query each), plus inactive assignees on the page."""
    teams = management.list_teams(uow, actor=principal)
    agents = management.list_agents(uow, actor=principal, is_active=True, limit=200).items
    team_names = {t.id: t.name for t in teams}
    agent_names = {a.id: a.name for a in agents}
    missing = sorted(assignee_ids - agent_names.keys())
    if missing:
        agent_names.update({a.id: a.name for a in accounts.agents_by_id(uow, missing).values()})
    directory = Directory(
        teams=[(t.id, t.name) for t in teams if t.is_active],
        agents=[(a.id, a.name) for a in agents],
    )
    return directory, team_names, agent_names


def load_page(
    uow: UnitOfWork,
    *,
    principal: Principal,
    preset: ViewPreset,
    cursor: str | None,
    url: URL,
) -> ListPage:
    """One page of the view's tickets with every name resolved (a fixed number of queries).

    A cursor that does not decode, or belongs to another sort (the URL was edited), gives the
    first page rather than an error."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursor:
        after = None
    query = ticket_query(
        preset.filters,
        sort=preset.sort,
        viewer=viewer_of(principal),
        now=uow.clock.now(),
        after=after,
        limit=PAGE_SIZE,
    )
    items: Sequence[Any] = []
    next_cursor: str | None = None
    if query is not None:
        try:
            page = tickets.list_tickets(uow, query=query, actor=principal)
        except InvalidCursor:
            page = tickets.list_tickets(uow, query=replace(query, after=None), actor=principal)
        items, next_cursor = page.items, page.next_cursor
    requesters = accounts.customers_by_id(uow, sorted({t.requester_id for t in items}))
    directory, team_names, agent_names = _directory(
        uow, principal, {t.assignee_id for t in items if t.assignee_id is not None}
    )
    rows = [
        Row(
            id=t.id,
            version=t.version,
            subject=t.subject,
            status=t.status,
            priority=t.priority,
            type=t.type,
            channel=t.channel,
            tags=list(t.tags),
            requester=requesters[t.requester_id].name if t.requester_id in requesters else "",
            team=team_names.get(t.team_id, "") if t.team_id is not None else "",
            assignee=agent_names.get(t.assignee_id, "") if t.assignee_id is not None else "",
            assignee_id=t.assignee_id,
            sla_due_at=t.sla_due_at,
            sla_state=t.sla_state,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )
        for t in items
    ]
    next_url = relative(url.include_query_params(cursor=next_cursor)) if next_cursor else None
    return ListPage(rows=rows, next_url=next_url, directory=directory)


def relative(url: URL) -> str:
    """``/agent/views/mine?sort=priority``: links stay on whatever host the page came from."""
    return f"{url.path}?{url.query}" if url.query else url.path


def sort_url(url: URL, sort: str) -> str:
    return relative(url.remove_query_params("cursor").include_query_params(sort=sort))


def choices(locale: str) -> dict[str, Any]:
    """Options of the filter form that do not come from the database."""
    return {
        "statuses": [s.value for s in STATUS_ORDER],
        "priorities": [p.value for p in Priority],
        "types": [t.value for t in TicketType],
        "sla_states": list(SLA_STATES),
        "sorts": [(s, SORT_LABELS[s].render(locale)) for s in SORTS],
        "columns": [(c, COLUMN_LABELS[c].render(locale)) for c in COLUMNS],
        "resolved_within": list(RESOLVED_WITHIN_DAYS),
    }
