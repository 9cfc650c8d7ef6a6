"""The pure rules of macros: placeholders and scopes."""

from __future__ import annotations

import pytest

from closeloop.tickets.macros.domain import (
    Editor,
    MacroScope,
    fill_placeholders,
    may_manage,
    may_use,
)


def test_known_placeholders_are_filled_and_others_kept() -> None:
    values = {"customer_name": "Ann", "ticket_number": "TK-000001", "agent_name": "Bo"}
    text = "{customer_name}/{ticket_number}/{agent_name}/{other}/{customer_name"
    assert fill_placeholders(text, values) == "Ann/TK-000001/Bo/{other}/{customer_name"


def test_a_missing_value_keeps_the_placeholder() -> None:
    assert fill_placeholders("Hi {customer_name}", {}) == "Hi {customer_name}"


AGENT = Editor(agent_id=1, is_admin=False, led_team_ids=frozenset())
LEAD = Editor(agent_id=2, is_admin=False, led_team_ids=frozenset({7}))
ADMIN = Editor(agent_id=3, is_admin=True, led_team_ids=frozenset())


@pytest.mark.parametrize(
    ("editor", "scope", "owner", "team", "allowed"),
    [
        pytest.param(AGENT, MacroScope.personal, 1, None, True, id="owner_personal"),
        pytest.param(LEAD, MacroScope.personal, 1, None, False, id="other_personal"),
        pytest.param(ADMIN, MacroScope.personal, 1, None, False, id="admin_personal"),
        pytest.param(AGENT, MacroScope.team, None, 7, False, id="member_team"),
        pytest.param(LEAD, MacroScope.team, None, 7, True, id="lead_team"),
        pytest.param(LEAD, MacroScope.team, None, 8, False, id="lead_other_team"),
        pytest.param(ADMIN, MacroScope.team, None, 8, True, id="admin_team"),
        pytest.param(LEAD, MacroScope.global_, None, None, False, id="lead_global"),
        pytest.param(ADMIN, MacroScope.global_, None, None, True, id="admin_global"),
    ],
)
def test_who_manages_which_macro(
    editor: Editor, scope: MacroScope, owner: int | None, team: int | None, allowed: bool
) -> None:
    assert may_manage(editor, scope=scope, owner_agent_id=owner, team_id=team) is allowed


@pytest.mark.parametrize(
    ("scope", "owner", "team", "allowed"),
    [
        pytest.param(MacroScope.global_, None, None, True, id="global"),
        pytest.param(MacroScope.team, None, 7, True, id="own_team"),
        pytest.param(MacroScope.team, None, 8, False, id="other_team"),
        pytest.param(MacroScope.team, None, None, False, id="team_without_team"),
        pytest.param(MacroScope.personal, 1, None, True, id="own"),
        pytest.param(MacroScope.personal, 2, None, False, id="someone_elses"),
    ],
)
def test_who_uses_which_macro(
    scope: MacroScope, owner: int | None, team: int | None, allowed: bool
) -> None:
    used = may_use(
        agent_id=1, team_ids=frozenset({7}), scope=scope, owner_agent_id=owner, team_id=team
    )
    assert used is allowed


def test_nobody_without_an_agent_id_owns_a_personal_macro() -> None:
    system = Editor(agent_id=None, is_admin=True, led_team_ids=frozenset())
    assert not may_manage(system, scope=MacroScope.personal, owner_agent_id=None, team_id=None)
    assert not may_use(
        agent_id=None,
        team_ids=frozenset(),
        scope=MacroScope.personal,
        owner_agent_id=None,
        team_id=None,
    )
