"""Views as presets of the ticket list (pure): cleaning filters, resolving "me" and "my teams",
which built-in views a viewer has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.tickets.saved_views.domain import (
    BUILTIN_PRESETS,
    DEFAULT_SORT,
    BuiltinView,
    Viewer,
    ViewFilters,
    builtin_views_for,
    clean_columns,
    clean_sort,
    filters_from_document,
    preset_of,
    split_sort,
    ticket_query,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
AGENT = Viewer(agent_id=7, team_ids=frozenset({3, 1}), sees_all_tickets=False)
LONER = Viewer(agent_id=8, team_ids=frozenset(), sees_all_tickets=False)
SUPERVISOR = Viewer(agent_id=9, team_ids=frozenset(), sees_all_tickets=True)


def test_filters_from_a_document_drop_what_they_do_not_know() -> None:
    filters = filters_from_document(
        {
            "statuses": ["pending", "nonsense", "new"],
            "priorities": "P1",
            "types": ["fault"],
            "team_ids": [3, "4", "x", -1, True],
            "my_teams": "yes",
            "assignee_ids": [],
            "assigned_to_me": True,
            "tags": ["VPN ", "vpn", ""],
            "sla_states": ["breached", "late"],
            "text": "  printer ",
            "resolved_within_days": 5,
            "unknown": 1,
        }
    )
    assert filters == ViewFilters(
        statuses=("new", "pending"),
        priorities=("P1",),
        types=("fault",),
        team_ids=(3, 4),
        assigned_to_me=True,
        tags=("vpn",),
        sla_states=("breached",),
        text="printer",
    )


def test_a_document_round_trips_without_empty_filters() -> None:
    filters = ViewFilters(statuses=("open",), my_teams=True, resolved_within_days=7)
    document = filters.to_document()
    assert document == {"statuses": ["open"], "my_teams": True, "resolved_within_days": 7}
    assert filters_from_document(document) == filters
    assert ViewFilters().is_empty


def test_columns_keep_their_order_and_always_show_number_and_subject() -> None:
    assert clean_columns(["updated", "bogus", "status"]) == (
        "number",
        "subject",
        "status",
        "updated",
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("priority", ("priority", False)), ("-sla_due_at", ("sla_due_at", True)), ("id", None)],
)
def test_sorts(sort: str, expected: tuple[str, bool] | None) -> None:
    if expected is None:
        assert clean_sort(sort) == DEFAULT_SORT
    else:
        assert split_sort(sort) == expected


def test_me_and_my_teams_mean_the_viewer() -> None:
    filters = ViewFilters(assigned_to_me=True, my_teams=True, team_ids=(5,), assignee_ids=(2,))
    query = ticket_query(filters, sort="sla_due_at", viewer=AGENT, now=NOW)
    assert query is not None
    assert query.assignee_ids == (2, 7)
    assert query.team_ids == (5, 1, 3)
    assert (query.sort, query.descending) == ("sla_due_at", False)


def test_my_teams_without_teams_matches_nothing() -> None:
    assert ticket_query(ViewFilters(my_teams=True), sort="priority", viewer=LONER, now=NOW) is None
    # With a team chosen as well, that team is still listed.
    query = ticket_query(
        ViewFilters(my_teams=True, team_ids=(4,)), sort="priority", viewer=LONER, now=NOW
    )
    assert query is not None
    assert query.team_ids == (4,)


def test_recently_resolved_counts_back_from_now() -> None:
    preset = BUILTIN_PRESETS[BuiltinView.recently_resolved]
    query = ticket_query(preset.filters, sort=preset.sort, viewer=AGENT, now=NOW)
    assert query is not None
    assert query.resolved_from == NOW - timedelta(days=7)


def test_all_open_is_for_supervisors_and_admins() -> None:
    assert BuiltinView.all_open not in builtin_views_for(AGENT)
    assert preset_of(BuiltinView.all_open, AGENT) is None
    assert builtin_views_for(SUPERVISOR) == list(BuiltinView)
    assert preset_of(BuiltinView.all_open, SUPERVISOR) == BUILTIN_PRESETS[BuiltinView.all_open]
