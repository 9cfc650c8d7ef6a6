"""Managing routing rules (administrators) and trying them on a ticket (a dry run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.accounts.errors import CustomerNotFound, SkillNotFound, TeamNotFound
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db import config_versions
from closeloop.db.session import UnitOfWork
from closeloop.kit.errors import PermissionDenied, ValidationFailed
from closeloop.kit.logging import get_logger
from closeloop.kit.versioned_cache import VersionedCache
from closeloop.routing import permissions, repository
from closeloop.routing.errors import (
    InvalidRule,
    RoutingRulesDenied,
    RuleNotFound,
    RuleOrderMismatch,
)
from closeloop.routing.models import RoutingRule
from closeloop.routing.rules import (
    Actions,
    Condition,
    Decision,
    MatchMode,
    Operator,
    Problem,
    Rule,
    TicketFacts,
    evaluate,
    rule_problems,
)
from closeloop.routing.schemas import ActionsIn, ConditionIn, DryRunRequest, RuleCreate, RuleUpdate
from closeloop.routing.service._common import facts_for
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import normalise_tags

ENTITY = "routing_rule"
log = get_logger(__name__)


# --- stored form ↔ rules ----------------------------------------------------------------------


def condition_of(raw: Mapping[str, Any]) -> Condition:
    return Condition(
        field=str(raw["field"]),
        operator=Operator(raw["operator"]),
        value=raw.get("value"),
        negate=bool(raw.get("negate", False)),
    )


def actions_of(raw: Mapping[str, Any]) -> Actions:
    return Actions(
        type=raw.get("type"),
        priority=raw.get("priority"),
        team_id=raw.get("team_id"),
        add_tags=tuple(raw.get("add_tags", ())),
        required_skills={int(k): int(v) for k, v in raw.get("required_skills", {}).items()},
    )


def rule_of(row: RoutingRule) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        conditions=tuple(condition_of(c) for c in row.conditions),
        actions=actions_of(row.actions),
        match=MatchMode(row.match),
        is_active=row.is_active,
        position=row.position,
    )


# The rules of this process, per database, with the ``routing`` configuration version they
# were read at (``closeloop.db.config_versions``): every change to a rule gives the rules a new
# version in its transaction, and each transaction reloads them only when the version it reads
# differs. Rules are frozen values: threads share them.
PROCESS_CACHE: VersionedCache[tuple[Rule, ...]] = VersionedCache()


def stored_rules(uow: UnitOfWork, *, active_only: bool) -> list[Rule]:
    """The rules as evaluation needs them; a stored rule that no longer reads is skipped."""
    version = config_versions.version_of(uow, config_versions.ROUTING)
    every = PROCESS_CACHE.get(config_versions.database_key(uow), version, lambda: _read_rules(uow))
    return [rule for rule in every if rule.is_active or not active_only]


def _read_rules(uow: UnitOfWork) -> tuple[Rule, ...]:
    found: list[Rule] = []
    for row in repository.rules(uow.session):
        try:
            found.append(rule_of(row))
        except (KeyError, ValueError, TypeError):
            log.warning("routing.rule_unreadable", rule_id=row.id)
    return tuple(found)


def _conditions(given: Sequence[ConditionIn]) -> list[Condition]:
    return [Condition(c.field, c.operator, c.value, c.negate) for c in given]


def _actions(given: ActionsIn) -> Actions:
    return Actions(
        type=given.type.value if given.type else None,
        priority=given.priority.value if given.priority else None,
        team_id=given.team_id,
        add_tags=tuple(normalise_tags(given.add_tags)),
        required_skills=dict(given.required_skills),
    )


def _stored_conditions(conditions: Sequence[Condition]) -> list[dict[str, Any]]:
    return [
        {"field": c.field, "operator": c.operator.value, "value": c.value, "negate": c.negate}
        for c in conditions
    ]


def _check(uow: UnitOfWork, conditions: Sequence[Condition], actions: Actions) -> None:
    problems = rule_problems(conditions, actions)
    if actions.team_id is not None:
        try:
            accounts.get_team(uow, actions.team_id)
        except TeamNotFound:
            problems.append(Problem("actions.team_id", "unknown_team", "No such team."))
    for skill_id in actions.required_skills:
        try:
            management.get_skill(uow, skill_id=skill_id, actor=SYSTEM)
        except SkillNotFound:
            problems.append(
                Problem(f"actions.required_skills.{skill_id}", "unknown_skill", "No such skill.")
            )
    if problems:
        raise InvalidRule(errors=[p.as_dict() for p in problems])


def _record(
    uow: UnitOfWork, rule_id: int, action: str, changes: list[Change], actor: Principal, via: str
) -> None:
    """Every change to a rule is recorded here; it also gives the rules a new configuration
    version, so every process reads them again once the change commits."""
    config_versions.bump(uow, config_versions.ROUTING)
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=rule_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=action.endswith(".created"),
    )


# --- use cases --------------------------------------------------------------------------------


def _require_manage(actor: Principal) -> None:
    if not permissions.can_manage_rules(actor):
        raise RoutingRulesDenied()


def list_rules(uow: UnitOfWork, *, actor: Principal) -> Sequence[RoutingRule]:
    if not permissions.can_read_rules(actor):
        raise PermissionDenied()
    return repository.rules(uow.session)


def get_rule(uow: UnitOfWork, *, rule_id: int, actor: Principal) -> RoutingRule:
    if not permissions.can_read_rules(actor):
        raise RuleNotFound(rule_id=rule_id)
    found = repository.rule(uow.session, rule_id)
    if found is None:
        raise RuleNotFound(rule_id=rule_id)
    return found


def create_rule(uow: UnitOfWork, *, data: RuleCreate, actor: Principal, via: str) -> RoutingRule:
    _require_manage(actor)
    conditions, actions = _conditions(data.conditions), _actions(data.actions)
    _check(uow, conditions, actions)
    existing = list(repository.rules_for_update(uow.session))
    position = min(data.position or len(existing) + 1, len(existing) + 1)
    for row in existing:
        if row.position >= position:
            row.position += 1
    now = uow.clock.now()
    created = RoutingRule(
        position=position,
        name=data.name,
        match=data.match.value,
        conditions=_stored_conditions(conditions),
        actions=actions.as_dict(),
        is_active=data.is_active,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(created)
    uow.session.flush()
    _record(
        uow,
        created.id,
        "routing_rule.created",
        [
            Change("name", None, created.name),
            Change("position", None, created.position),
            Change("match", None, created.match),
            Change("conditions", None, created.conditions),
            Change("actions", None, created.actions),
            Change("is_active", None, created.is_active),
        ],
        actor,
        via,
    )
    return created


def update_rule(
    uow: UnitOfWork, *, rule_id: int, data: RuleUpdate, actor: Principal, via: str
) -> RoutingRule:
    _require_manage(actor)
    row = repository.rule(uow.session, rule_id, for_update=True)
    if row is None:
        raise RuleNotFound(rule_id=rule_id)
    given = data.given()
    conditions = (
        _conditions(data.conditions)
        if data.conditions is not None
        else [condition_of(c) for c in row.conditions]
    )
    actions = _actions(data.actions) if data.actions is not None else actions_of(row.actions)
    _check(uow, conditions, actions)
    values: dict[str, Any] = {
        "name": data.name,
        "match": data.match.value if data.match else None,
        "conditions": _stored_conditions(conditions) if "conditions" in given else None,
        "actions": actions.as_dict() if "actions" in given else None,
        "is_active": data.is_active,
    }
    changes: list[Change] = []
    for name, value in values.items():
        if name in given and getattr(row, name) != value:
            changes.append(Change(name, getattr(row, name), value))
            setattr(row, name, value)
    if changes:
        row.updated_at = uow.clock.now()
        uow.session.flush()
        _record(uow, row.id, "routing_rule.updated", changes, actor, via)
    return row


def delete_rule(uow: UnitOfWork, *, rule_id: int, actor: Principal, via: str) -> None:
    _require_manage(actor)
    existing = list(repository.rules_for_update(uow.session))
    row = next((r for r in existing if r.id == rule_id), None)
    if row is None:
        raise RuleNotFound(rule_id=rule_id)
    uow.session.delete(row)
    for position, other in enumerate((r for r in existing if r.id != rule_id), start=1):
        other.position = position
    _record(uow, rule_id, "routing_rule.deleted", [Change("name", row.name, None)], actor, via)


def reorder_rules(
    uow: UnitOfWork, *, rule_ids: Sequence[int], actor: Principal, via: str
) -> Sequence[RoutingRule]:
    """Every rule in the given order, first to last."""
    _require_manage(actor)
    existing = {row.id: row for row in repository.rules_for_update(uow.session)}
    if sorted(rule_ids) != sorted(existing) or len(set(rule_ids)) != len(rule_ids):
        raise RuleOrderMismatch(
            errors=[
                {
                    "field": "rule_ids",
                    "code": "mismatch",
                    "message": f"Give each of the rule ids {sorted(existing)} once.",
                }
            ]
        )
    now = uow.clock.now()
    for position, rule_id in enumerate(rule_ids, start=1):
        row = existing[rule_id]
        if row.position != position:
            _record(
                uow,
                row.id,
                "routing_rule.moved",
                [Change("position", row.position, position)],
                actor,
                via,
            )
            row.position = position
            row.updated_at = now
    uow.session.flush()
    return repository.rules(uow.session)


def dry_run(uow: UnitOfWork, *, data: DryRunRequest, actor: Principal) -> Decision:
    """Which rule would fire for a ticket (an existing one you may read, or one described in
    the request) and why each rule matches or not. Nothing changes."""
    if not permissions.can_read_rules(actor):
        raise PermissionDenied()
    if data.ticket_id is not None:
        facts = facts_for(uow, tickets.get_ticket(uow, ticket_id=data.ticket_id, actor=actor))
    else:
        assert data.ticket is not None
        facts = _described_facts(uow, data)
    return evaluate(stored_rules(uow, active_only=False), facts, explain=True)


def _described_facts(uow: UnitOfWork, data: DryRunRequest) -> TicketFacts:
    ticket = data.ticket
    assert ticket is not None
    customer_tier = "standard"
    company_id = ticket.company_id
    if ticket.requester_id is not None:
        try:
            customer = accounts.get_customer(uow, ticket.requester_id)
        except CustomerNotFound as error:
            raise ValidationFailed(
                errors=[{"field": "ticket.requester_id", "code": "unknown", "message": str(error)}]
            ) from error
        customer_tier = customer.tier
        company_id = company_id if company_id is not None else customer.company_id
    company_name, company_tier = None, None
    if company_id is not None:
        company = management.get_company(uow, company_id=company_id, actor=SYSTEM)
        company_name, company_tier = company.name, company.tier
    return TicketFacts(
        subject=ticket.subject,
        body=ticket.description,
        type=ticket.type.value,
        priority=ticket.priority.value,
        channel=ticket.channel.value,
        status=ticket.status.value,
        team_id=ticket.team_id,
        tags=tuple(normalise_tags(ticket.tags)),
        custom_fields=ticket.custom_fields,
        customer_tier=customer_tier,
        company_id=company_id,
        company_name=company_name,
        company_tier=company_tier,
    )
