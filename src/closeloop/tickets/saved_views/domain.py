"""What a ticket view is: filters, columns and a sort, and the built-in views (pure).

A view is a preset of the ticket list. The built-in ones every agent has (my open tickets,
unassigned in my teams, ...) and the saved ones (an agent's own, or shared with a team) are
described the same way, by :class:`ViewFilters`, and become a :class:`TicketQuery` for the
principal looking at them: "me" and "my teams" mean the viewer, not the view's owner.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from closeloop.tickets.domain import (
    OPEN_STATUSES,
    SLA_STATES,
    STATUS_ORDER,
    Priority,
    SortKey,
    TicketQuery,
    TicketType,
    normalise_tag,
)

# Columns of the ticket list, in display order.
COLUMNS: tuple[str, ...] = (
    "number",
    "subject",
    "requester",
    "status",
    "priority",
    "type",
    "channel",
    "team",
    "assignee",
    "tags",
    "sla",
    "created",
    "updated",
)
DEFAULT_COLUMNS: tuple[str, ...] = (
    "number",
    "subject",
    "requester",
    "status",
    "priority",
    "team",
    "assignee",
    "sla",
    "updated",
)
# Number and subject identify a row: a view always shows them.
REQUIRED_COLUMNS = frozenset({"number", "subject"})

# Sorts offered by the list ("-" means descending). Priority ascending is the most urgent first;
# SLA due ascending is the clock that runs out first (tickets without a running clock last).
SORTS: tuple[str, ...] = (
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "priority",
    "-priority",
    "sla_due_at",
    "-sla_due_at",
)
DEFAULT_SORT = "-updated_at"
OPEN = tuple(s.value for s in STATUS_ORDER if s in OPEN_STATUSES)
MAX_TEXT_LENGTH = 200
MAX_VALUES = 50
RESOLVED_WITHIN_DAYS = (1, 7, 30)


@dataclass(frozen=True, slots=True)
class ViewFilters:
    """The filters of a view. Empty means "any"; ``assigned_to_me`` and ``my_teams`` are
    resolved against whoever looks at the view."""

    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    my_teams: bool = False
    assignee_ids: tuple[int, ...] = ()
    assigned_to_me: bool = False
    unassigned: bool = False
    tags: tuple[str, ...] = ()
    sla_states: tuple[str, ...] = ()
    text: str = ""
    resolved_within_days: int | None = None

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready dict without the empty filters (what a saved view stores)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
            if value not in ((), "", False, None)
        }

    @property
    def is_empty(self) -> bool:
        return not self.to_document()


def _known(values: Iterable[Any], allowed: Iterable[str]) -> tuple[str, ...]:
    permitted = list(allowed)
    seen = {str(v) for v in values}
    return tuple(v for v in permitted if v in seen)


def _ids(values: Iterable[Any]) -> tuple[int, ...]:
    found: dict[int, None] = {}
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > 0:
            found.setdefault(value, None)
        elif isinstance(value, str) and value.isdigit() and int(value) > 0:
            found.setdefault(int(value), None)
    return tuple(found)[:MAX_VALUES]


def _sequence(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value is None else [value]


def filters_from_document(document: Mapping[str, Any]) -> ViewFilters:
    """Filters from a stored or submitted dict; unknown keys and values are dropped, so a view
    saved before a value was retired still opens."""
    within = document.get("resolved_within_days")
    tags = [normalise_tag(str(t)) for t in _sequence(document.get("tags"))]
    return ViewFilters(
        statuses=_known(_sequence(document.get("statuses")), (s.value for s in STATUS_ORDER)),
        priorities=_known(_sequence(document.get("priorities")), (p.value for p in Priority)),
        types=_known(_sequence(document.get("types")), (t.value for t in TicketType)),
        team_ids=_ids(_sequence(document.get("team_ids"))),
        my_teams=document.get("my_teams") is True,
        assignee_ids=_ids(_sequence(document.get("assignee_ids"))),
        assigned_to_me=document.get("assigned_to_me") is True,
        unassigned=document.get("unassigned") is True,
        tags=tuple(dict.fromkeys(t for t in tags if t))[:MAX_VALUES],
        sla_states=_known(_sequence(document.get("sla_states")), SLA_STATES),
        text=str(document.get("text") or "").strip()[:MAX_TEXT_LENGTH],
        resolved_within_days=within if within in RESOLVED_WITHIN_DAYS else None,
    )


def clean_columns(columns: Iterable[str]) -> tuple[str, ...]:
    """Known columns in display order, number and subject always included."""
    wanted = set(columns) | REQUIRED_COLUMNS
    return tuple(c for c in COLUMNS if c in wanted)


def clean_sort(sort: str | None, default: str = DEFAULT_SORT) -> str:
    return sort if sort in SORTS else default


def split_sort(sort: str) -> tuple[SortKey, bool]:
    """("-updated_at") -> ("updated_at", descending=True)."""
    key = clean_sort(sort).lstrip("-")
    assert key in ("created_at", "updated_at", "priority", "sla_due_at")
    return key, sort.startswith("-")  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks at a view: what "me" and "my teams" stand for."""

    agent_id: int | None
    team_ids: frozenset[int]
    sees_all_tickets: bool


def ticket_query(
    filters: ViewFilters,
    *,
    sort: str,
    viewer: Viewer,
    now: datetime,
    after: dict[str, Any] | None = None,
    limit: int = 25,
) -> TicketQuery | None:
    """The query that lists the view for ``viewer``; None when it can match nothing (a view of
    "my teams" for somebody in no team), so no statement needs to run."""
    assignees = list(filters.assignee_ids)
    if filters.assigned_to_me:
        if viewer.agent_id is None:
            return None
        assignees.append(viewer.agent_id)
    teams = list(filters.team_ids)
    if filters.my_teams:
        if not viewer.team_ids and not teams:
            return None
        teams.extend(sorted(viewer.team_ids - set(teams)))
    key, descending = split_sort(clean_sort(sort))
    resolved_from = (
        now - timedelta(days=filters.resolved_within_days)
        if filters.resolved_within_days is not None
        else None
    )
    return TicketQuery(
        statuses=filters.statuses,
        priorities=filters.priorities,
        types=filters.types,
        team_ids=tuple(dict.fromkeys(teams)),
        assignee_ids=tuple(dict.fromkeys(assignees)),
        unassigned=filters.unassigned,
        tags=filters.tags,
        sla_states=filters.sla_states,
        text=filters.text,
        resolved_from=resolved_from,
        sort=key,
        descending=descending,
        after=after,
        limit=limit,
    )


class BuiltinView(enum.StrEnum):
    """The views every agent has, in the side navigation's order."""

    mine = "mine"
    unassigned = "unassigned"
    all_open = "all_open"
    sla_risk = "sla_risk"
    overdue = "overdue"
    pending = "pending"
    recently_resolved = "recently_resolved"


@dataclass(frozen=True, slots=True)
class ViewPreset:
    filters: ViewFilters
    sort: str
    columns: tuple[str, ...] = DEFAULT_COLUMNS


BUILTIN_PRESETS: Mapping[BuiltinView, ViewPreset] = {
    BuiltinView.mine: ViewPreset(
        ViewFilters(statuses=OPEN, assigned_to_me=True), sort="sla_due_at"
    ),
    BuiltinView.unassigned: ViewPreset(
        ViewFilters(statuses=OPEN, my_teams=True, unassigned=True), sort="sla_due_at"
    ),
    BuiltinView.all_open: ViewPreset(ViewFilters(statuses=OPEN), sort="-updated_at"),
    BuiltinView.sla_risk: ViewPreset(
        ViewFilters(statuses=OPEN, sla_states=("warning",)), sort="sla_due_at"
    ),
    BuiltinView.overdue: ViewPreset(
        ViewFilters(statuses=OPEN, sla_states=("breached",)), sort="sla_due_at"
    ),
    BuiltinView.pending: ViewPreset(ViewFilters(statuses=("pending",)), sort="-updated_at"),
    BuiltinView.recently_resolved: ViewPreset(
        ViewFilters(resolved_within_days=7),
        sort="-updated_at",
        columns=(
            "number",
            "subject",
            "requester",
            "status",
            "priority",
            "team",
            "assignee",
            "updated",
        ),
    ),
}

# Everything else is for every agent; the whole desk's open work is for supervisors and admins.
_SUPERVISOR_VIEWS = frozenset({BuiltinView.all_open})


def builtin_views_for(viewer: Viewer) -> list[BuiltinView]:
    """The built-in views ``viewer`` has, in navigation order."""
    return [v for v in BuiltinView if viewer.sees_all_tickets or v not in _SUPERVISOR_VIEWS]


def preset_of(view: BuiltinView, viewer: Viewer) -> ViewPreset | None:
    """The preset, or None when the view is not for this viewer."""
    if view in _SUPERVISOR_VIEWS and not viewer.sees_all_tickets:
        return None
    return BUILTIN_PRESETS[view]


def with_filters(preset: ViewPreset, filters: ViewFilters) -> ViewPreset:
    return replace(preset, filters=filters)
