"""The rules of macros (pure): placeholders, scopes and who may change which macro."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass


class MacroScope(enum.StrEnum):
    personal = "personal"
    team = "team"
    global_ = "global"


# Placeholders a macro body may use; anything else in braces is left as written.
PLACEHOLDERS = ("customer_name", "ticket_number", "agent_name")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def fill_placeholders(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each known ``{placeholder}`` replaced (unknown braces stay as they are)."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)


@dataclass(frozen=True, slots=True)
class Editor:
    """What deciding on a macro change needs to know about the person changing it."""

    agent_id: int | None
    is_admin: bool
    led_team_ids: frozenset[int]


def may_manage(
    editor: Editor, *, scope: MacroScope, owner_agent_id: int | None, team_id: int | None
) -> bool:
    """Personal macros belong to their owner; team macros to the team's lead (and admins);
    global macros to admins."""
    if scope is MacroScope.personal:
        return editor.agent_id is not None and editor.agent_id == owner_agent_id
    if scope is MacroScope.team:
        return editor.is_admin or (team_id is not None and team_id in editor.led_team_ids)
    return editor.is_admin


def may_use(
    *,
    agent_id: int | None,
    team_ids: frozenset[int],
    scope: MacroScope,
    owner_agent_id: int | None,
    team_id: int | None,
) -> bool:
    """Everyone uses global macros, team members their team's, owners their personal ones."""
    if scope is MacroScope.global_:
        return True
    if scope is MacroScope.team:
        return team_id is not None and team_id in team_ids
    return agent_id is not None and agent_id == owner_agent_id
