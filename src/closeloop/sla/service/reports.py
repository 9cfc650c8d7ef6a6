"""SLA attainment over a date range: met and breached clocks per policy, target, team or
priority, counted over the tickets created in the range."""

from __future__ import annotations

from datetime import datetime, timedelta

from closeloop.accounts import management
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork
from closeloop.sla import permissions, repository
from closeloop.sla.errors import InvalidReportRange
from closeloop.sla.schemas import AttainmentGroupBy, AttainmentGroupRead, AttainmentRead

MAX_RANGE = timedelta(days=400)


def attainment_ratio(met: int, breached: int) -> float | None:
    """Met over ended (met + breached); running and paused clocks have not ended yet."""
    ended = met + breached
    return None if ended == 0 else round(met / ended, 4)


def _group_order(row: tuple[object, ...]) -> tuple[bool, int, str]:
    key = row[0]
    return (key is None, key if isinstance(key, int) else 0, str(key))


def attainment(
    uow: UnitOfWork,
    *,
    start: datetime,
    end: datetime,
    group_by: AttainmentGroupBy,
    actor: Principal,
) -> AttainmentRead:
    permissions.require_read(actor)
    if not start < end or end - start > MAX_RANGE:
        raise InvalidReportRange(days=MAX_RANGE.days)
    rows = repository.attainment_rows(uow.session, start=start, end=end, group_by=group_by)
    labels: dict[int, str] = {}
    if group_by == "team":
        labels = {team.id: team.name for team in management.list_teams(uow, actor=SYSTEM)}
    groups = [
        AttainmentGroupRead(
            key=key,
            label=label if group_by == "policy" else labels.get(key) if key is not None else None,
            met=met,
            breached=breached,
            total=total,
            attainment=attainment_ratio(met, breached),
        )
        for key, label, met, breached, total in sorted(rows, key=_group_order)
    ]
    met = sum(g.met for g in groups)
    breached = sum(g.breached for g in groups)
    return AttainmentRead(
        start=start,
        end=end,
        group_by=group_by,
        met=met,
        breached=breached,
        total=sum(g.total for g in groups),
        attainment=attainment_ratio(met, breached),
        groups=groups,
    )
