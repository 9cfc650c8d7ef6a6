"""The side navigation of the agent workspace: the ticket views, with their counts.

The hook: ``agent/layout.html`` calls ``nav()`` in its template context, which calls
:func:`nav_context` once per full page render (never for htmx fragments). It returns

    {"views": [NavItem(key="mine", label=_("My open tickets"), href="/agent/views/mine",
                       count=3), ...]}

the built-in views the agent has, then their saved views (their own and their teams'). It costs
two statements whatever the number of views: the saved views, and every count at once (one
SELECT of capped scalar subqueries, see ``tickets.repository.count_visible``). A count stops at
the cap + 1 matching rows and shows as "999+" / "99+", so a view over a million tickets costs no
more than a small one. Supervisors and admins count up to :data:`COUNT_CAP` (their counts walk an
index only); agents up to :data:`AGENT_COUNT_CAP`, because each row an agent's count walks also
tests the visibility rule (team, assignee or follower): on a desk of a million tickets that
keeps the navigation under about 20 ms (bench/web_pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from closeloop.accounts.domain import Principal
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import LazyString
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketQuery
from closeloop.tickets.saved_views import service as saved_views
from closeloop.tickets.saved_views.domain import (
    ViewPreset,
    builtin_views_for,
    preset_of,
    ticket_query,
)
from closeloop.web.agent.listing import BUILTIN_LABELS, viewer_of

COUNT_CAP = 999
AGENT_COUNT_CAP = 99


def count_cap(principal: Principal) -> int:
    return COUNT_CAP if principal.sees_all_tickets else AGENT_COUNT_CAP


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: LazyString | str
    href: str
    count: int | None = None
    saved: bool = False
    cap: int = COUNT_CAP

    @property
    def count_text(self) -> str:
        """``12``; ``999+`` past the cap; empty when not counted."""
        if self.count is None:
            return ""
        return f"{self.cap}+" if self.count > self.cap else str(self.count)


def _entries(
    uow: UnitOfWork, principal: Principal
) -> list[tuple[str, LazyString | str, str, ViewPreset, bool]]:
    viewer = viewer_of(principal)
    entries: list[tuple[str, LazyString | str, str, ViewPreset, bool]] = []
    for builtin in builtin_views_for(viewer):
        preset = preset_of(builtin, viewer)
        assert preset is not None
        key = builtin.value
        entries.append((key, BUILTIN_LABELS[builtin], f"/agent/views/{key}", preset, False))
    for view in saved_views.list_saved_views(uow, actor=principal):
        key = str(view.id)
        preset = saved_views.preset_of(view)
        entries.append((key, view.name, f"/agent/views/{key}", preset, True))
    return entries


def nav_context(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """The views ``principal`` has, each with how many tickets it lists (two statements)."""
    if not principal.is_agent:
        return {"views": []}
    entries = _entries(uow, principal)
    viewer = viewer_of(principal)
    now = uow.clock.now()
    queries: list[TicketQuery | None] = [
        ticket_query(preset.filters, sort=preset.sort, viewer=viewer, now=now)
        for _key, _label, _href, preset, _saved in entries
    ]
    asked = [q for q in queries if q is not None]
    cap = count_cap(principal)
    found = iter(tickets.count_tickets(uow, queries=asked, actor=principal, cap=cap))
    counts = [0 if q is None else next(found) for q in queries]
    views = [
        NavItem(key=key, label=label, href=href, count=count, saved=saved, cap=cap)
        for (key, label, href, _preset, saved), count in zip(entries, counts, strict=True)
    ]
    return {"views": views}


def counts_of(uow: UnitOfWork, principal: Principal) -> dict[str, str]:
    """Each view's count as the navigation shows it (for live refreshes)."""
    return {item.key: item.count_text for item in nav_context(uow, principal)["views"]}
