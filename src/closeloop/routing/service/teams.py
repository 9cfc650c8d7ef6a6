"""How each team's tickets find an agent (its lead chooses), and the organisation's routing
settings (administrators)."""

from __future__ import annotations

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import TeamNotFound
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import ValidationFailed
from closeloop.routing import permissions, repository
from closeloop.routing.domain import Strategy
from closeloop.routing.errors import RoutingRulesDenied, TeamRoutingDenied
from closeloop.routing.models import RoutingSettings, TeamRouting
from closeloop.routing.schemas import RoutingSettingsUpdate, TeamRoutingUpdate
from closeloop.routing.service._common import routing_settings


def team_routing(uow: UnitOfWork, *, team_id: int, actor: Principal) -> TeamRouting:
    """The team's strategy; a team nobody configured assigns manually (not saved by a read)."""
    if not permissions.can_read_rules(actor):
        raise TeamNotFound(team_id=team_id)
    accounts.get_team(uow, team_id)
    found = repository.team_routing(uow.session, team_id)
    return found or TeamRouting(
        team_id=team_id, strategy=Strategy.manual.value, is_triage_team=False, updated_at=None
    )


def strategy_of(uow: UnitOfWork, team_id: int, *, for_update: bool = False) -> Strategy:
    found = repository.team_routing(uow.session, team_id, for_update=for_update)
    return Strategy(found.strategy) if found else Strategy.manual


def triage_team_ids(uow: UnitOfWork) -> list[int]:
    return repository.triage_team_ids(uow.session)


def set_team_routing(
    uow: UnitOfWork, *, team_id: int, changes: TeamRoutingUpdate, actor: Principal, via: str
) -> TeamRouting:
    if not permissions.can_read_rules(actor):
        raise TeamNotFound(team_id=team_id)  # customers do not see teams at all
    accounts.get_team(uow, team_id)
    if not permissions.can_set_team_routing(actor, team_id):
        raise TeamRoutingDenied()
    row = repository.team_routing(uow.session, team_id, for_update=True)
    now = uow.clock.now()
    if row is None:
        row = TeamRouting(
            team_id=team_id, strategy=Strategy.manual.value, is_triage_team=False, updated_at=now
        )
        uow.session.add(row)
    applied: list[Change] = []
    for name, value in changes.given().items():
        new = value.value if isinstance(value, Strategy) else value
        if getattr(row, name) != new:
            applied.append(Change(name, getattr(row, name), new))
            setattr(row, name, new)
    if applied:
        row.updated_at = now
        uow.session.flush()
        audit.record(
            uow,
            entity_type="team",
            entity_id=team_id,
            action="team.routing_changed",
            actor=accounts.actor_of(actor),
            via=via,
            changes=applied,
        )
    return row


def read_settings(uow: UnitOfWork, *, actor: Principal) -> RoutingSettings:
    if not permissions.can_read_rules(actor):
        raise RoutingRulesDenied()
    return routing_settings(uow)


def update_settings(
    uow: UnitOfWork, *, changes: RoutingSettingsUpdate, actor: Principal, via: str
) -> RoutingSettings:
    if not permissions.can_manage_rules(actor):
        raise RoutingRulesDenied()
    values = changes.given()
    team_id = values.get("escalation_team_id")
    if team_id is not None:
        try:
            accounts.get_team(uow, team_id)
        except TeamNotFound as error:
            raise ValidationFailed(
                errors=[{"field": "escalation_team_id", "code": "unknown", "message": str(error)}]
            ) from error
    routing_settings(uow)  # created on first use
    row = repository.settings(uow.session, for_update=True)
    assert row is not None
    applied: list[Change] = []
    for name, value in values.items():
        if getattr(row, name) != value:
            applied.append(Change(name, getattr(row, name), value))
            setattr(row, name, value)
    if applied:
        row.updated_at = uow.clock.now()
        uow.session.flush()
        audit.record(
            uow,
            entity_type="routing_settings",
            entity_id=row.id,
            action="routing_settings.updated",
            actor=accounts.actor_of(actor),
            via=via,
            changes=applied,
        )
    return row
