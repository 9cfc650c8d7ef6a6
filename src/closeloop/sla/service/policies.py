"""SLA policies with their targets and escalation ladders (admins change them), and the
dry run that shows which policy applies to a ticket and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.sla import permissions, repository
from closeloop.sla.clock import PENDING_ON_CUSTOMER, TargetKind, default_paused_statuses
from closeloop.sla.domain import EscalationAction
from closeloop.sla.errors import CalendarNotFound, InvalidPolicy, PolicyNotFound, SlaNameUsed
from closeloop.sla.models import EscalationStep, SlaPolicy, SlaTarget
from closeloop.sla.policy import TicketFacts, explain_match, targets_for
from closeloop.sla.schemas import (
    CheckRead,
    ConditionsIn,
    EscalationStepIn,
    EscalationStepRead,
    MatchRead,
    MatchRequest,
    PolicyCreate,
    PolicyEvaluationRead,
    PolicyRead,
    PolicyUpdate,
    TargetIn,
    TargetRead,
)
from closeloop.sla.service import rulebook
from closeloop.sla.service.clocks import request_recompute, ticket_facts
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import Priority, normalise_tags

ENTITY = "sla_policy"
# Status keys a policy may pause a clock in (resolved and closed always stop every clock).
PAUSABLE_STATUSES = frozenset(
    {"new", "open", "in_progress", "pending", PENDING_ON_CUSTOMER, "pending:third_party"}
)


def present(
    policy: SlaPolicy, targets: Sequence[SlaTarget], steps: Sequence[EscalationStep]
) -> PolicyRead:
    paused = rulebook.paused_of(policy)
    return PolicyRead(
        id=policy.id,
        name=policy.name,
        position=policy.position,
        is_active=policy.is_active,
        calendar_id=policy.calendar_id,
        conditions=dict(policy.conditions or {}),
        paused_statuses={
            kind: sorted(paused.get(kind, default_paused_statuses(kind))) for kind in TargetKind
        },
        warning_fractions=list(rulebook.warning_fractions_of(policy)),
        targets=[
            TargetRead(
                priority=Priority(t.priority),
                kind=TargetKind(t.kind),
                minutes=t.minutes,
                business_time=t.business_time,
            )
            for t in sorted(
                targets, key=lambda t: (t.priority, list(TargetKind).index(TargetKind(t.kind)))
            )
        ],
        escalations=[
            EscalationStepRead(
                kind=TargetKind(s.kind),
                position=s.position,
                at_fraction=s.at_fraction,
                after_breach_minutes=s.after_breach_minutes,
                action=EscalationAction(s.action),
                team_id=s.team_id,
            )
            for s in steps
        ],
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def _present_all(uow: UnitOfWork, policies: Sequence[SlaPolicy]) -> list[PolicyRead]:
    ids = [p.id for p in policies]
    targets: dict[int, list[SlaTarget]] = {i: [] for i in ids}
    steps: dict[int, list[EscalationStep]] = {i: [] for i in ids}
    for target in repository.targets_of(uow.session, ids):
        targets[target.policy_id].append(target)
    for step in repository.steps_of(uow.session, ids):
        steps[step.policy_id].append(step)
    return [present(p, targets[p.id], steps[p.id]) for p in policies]


def list_policies(uow: UnitOfWork, *, actor: Principal) -> list[PolicyRead]:
    """Every policy in the order they are tried."""
    permissions.require_read(actor)
    return _present_all(uow, repository.policies(uow.session))


def get_policy(uow: UnitOfWork, *, policy_id: int, actor: Principal) -> PolicyRead:
    permissions.require_read(actor)
    return _present_all(uow, [_load(uow, policy_id)])[0]


def _load(uow: UnitOfWork, policy_id: int, *, for_update: bool = False) -> SlaPolicy:
    policy = repository.policy(uow.session, policy_id, for_update=for_update)
    if policy is None:
        raise PolicyNotFound(policy_id=policy_id)
    return policy


# --- validation ---------------------------------------------------------------------------


def _conditions(conditions: ConditionsIn) -> dict[str, list[Any]]:
    lists: dict[str, list[Any]] = {
        "priorities": [p.value for p in dict.fromkeys(conditions.priorities)],
        "types": [t.value for t in dict.fromkeys(conditions.types)],
        "channels": [c.value for c in dict.fromkeys(conditions.channels)],
        "customer_tiers": [t.value for t in dict.fromkeys(conditions.customer_tiers)],
        "company_ids": list(dict.fromkeys(conditions.company_ids)),
        "team_ids": list(dict.fromkeys(conditions.team_ids)),
        "tags": normalise_tags(conditions.tags),
    }
    return {name: values for name, values in lists.items() if values}


def _paused(paused: dict[TargetKind, list[str]]) -> dict[str, list[str]]:
    stored: dict[str, list[str]] = {}
    for kind, statuses in paused.items():
        unknown = sorted(set(statuses) - PAUSABLE_STATUSES)
        if unknown:
            raise InvalidPolicy(
                field=f"paused_statuses.{kind.value}",
                reason=f"unknown statuses {unknown}; use some of {sorted(PAUSABLE_STATUSES)}",
            )
        stored[kind.value] = sorted(set(statuses))
    return stored


def _targets(targets: Sequence[TargetIn]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    rows: list[dict[str, Any]] = []
    for index, target in enumerate(targets):
        key = (target.priority.value, target.kind.value)
        if key in seen:
            raise InvalidPolicy(
                field=f"targets.{index}",
                reason=f"{target.priority.value} has two {target.kind.value} targets",
            )
        seen.add(key)
        rows.append(
            {
                "priority": target.priority.value,
                "kind": target.kind.value,
                "minutes": target.minutes,
                "business_time": target.business_time,
            }
        )
    return rows


def _steps(uow: UnitOfWork, steps: Sequence[EscalationStepIn]) -> list[dict[str, Any]]:
    """The ladder rows; a step's position is its place among the steps of its kind."""
    positions: dict[TargetKind, int] = {}
    rows: list[dict[str, Any]] = []
    for step in steps:
        if step.team_id is not None:
            accounts.get_team(uow, step.team_id)
        position = positions.get(step.kind, 0)
        positions[step.kind] = position + 1
        rows.append(
            {
                "kind": step.kind.value,
                "position": position,
                "at_fraction": step.at_fraction,
                "after_breach_minutes": step.after_breach_minutes,
                "action": step.action.value,
                "team_id": step.team_id,
            }
        )
    return rows


def _check_calendar(uow: UnitOfWork, calendar_id: int | None) -> None:
    if calendar_id is not None and repository.calendar(uow.session, calendar_id) is None:
        raise CalendarNotFound(calendar_id=calendar_id)


def _check_name(uow: UnitOfWork, name: str, policy_id: int | None = None) -> None:
    found = repository.policy_by_name(uow.session, name)
    if found is not None and found.id != policy_id:
        raise SlaNameUsed(name=name)


def _record(
    uow: UnitOfWork,
    policy_id: int,
    *,
    action: str,
    actor: Principal,
    via: str,
    changes: Sequence[Change],
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=policy_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes,
        new_entity=new_entity,
    )


def _changed(uow: UnitOfWork) -> None:
    rulebook.forget(uow)
    request_recompute(uow)


# --- changing -----------------------------------------------------------------------------


def create_policy(uow: UnitOfWork, *, data: PolicyCreate, actor: Principal, via: str) -> PolicyRead:
    permissions.require_manage(actor)
    _check_name(uow, data.name)
    _check_calendar(uow, data.calendar_id)
    targets, steps = _targets(data.targets), _steps(uow, data.escalations)
    position = repository.next_policy_position(uow.session)
    if data.position is not None and data.position < position:
        position = data.position
        for other in repository.policies(uow.session):
            if other.position >= position:
                other.position += 1
    now = uow.clock.now()
    policy = SlaPolicy(
        name=data.name,
        position=position,
        is_active=data.is_active,
        conditions=_conditions(data.conditions),
        calendar_id=data.calendar_id,
        paused_statuses=_paused(data.paused_statuses),
        warning_fractions=sorted(set(data.warning_fractions)),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(policy)
    uow.session.flush()
    repository.replace_targets(uow.session, policy.id, targets)
    repository.replace_steps(uow.session, policy.id, steps)
    uow.session.flush()
    _record(
        uow,
        policy.id,
        action="sla.policy_created",
        actor=actor,
        via=via,
        changes=[
            Change("name", None, policy.name),
            Change("position", None, position),
            Change("conditions", None, policy.conditions),
            Change("targets", None, targets),
            Change("escalations", None, steps),
        ],
        new_entity=True,
    )
    _changed(uow)
    return get_policy(uow, policy_id=policy.id, actor=actor)


def update_policy(
    uow: UnitOfWork, *, policy_id: int, data: PolicyUpdate, actor: Principal, via: str
) -> PolicyRead:
    permissions.require_manage(actor)
    policy = _load(uow, policy_id, for_update=True)
    given = data.model_fields_set
    changes: list[Change] = []

    def change(name: str, value: Any) -> None:
        if getattr(policy, name) != value:
            changes.append(Change(name, getattr(policy, name), value))
            setattr(policy, name, value)

    if data.name is not None and data.name != policy.name:
        _check_name(uow, data.name, policy.id)
        change("name", data.name)
    if data.is_active is not None:
        change("is_active", data.is_active)
    if "calendar_id" in given:
        _check_calendar(uow, data.calendar_id)
        change("calendar_id", data.calendar_id)
    if data.conditions is not None:
        change("conditions", _conditions(data.conditions))
    if data.paused_statuses is not None:
        change("paused_statuses", _paused(data.paused_statuses))
    if data.warning_fractions is not None:
        change("warning_fractions", sorted(set(data.warning_fractions)))
    if data.targets is not None:
        rows = _targets(data.targets)
        repository.replace_targets(uow.session, policy.id, rows)
        changes.append(Change("targets", None, rows))
    if data.escalations is not None:
        rows = _steps(uow, data.escalations)
        repository.replace_steps(uow.session, policy.id, rows)
        changes.append(Change("escalations", None, rows))
    if changes:
        policy.updated_at = uow.clock.now()
        uow.session.flush()
        _record(uow, policy.id, action="sla.policy_updated", actor=actor, via=via, changes=changes)
        _changed(uow)
    return get_policy(uow, policy_id=policy.id, actor=actor)


def delete_policy(uow: UnitOfWork, *, policy_id: int, actor: Principal, via: str) -> None:
    """Delete a policy; clocks it set keep their history and are re-matched."""
    permissions.require_manage(actor)
    policy = _load(uow, policy_id, for_update=True)
    _record(
        uow,
        policy.id,
        action="sla.policy_deleted",
        actor=actor,
        via=via,
        changes=[Change("name", policy.name, None)],
    )
    uow.session.delete(policy)
    uow.session.flush()
    _changed(uow)


def reorder_policies(
    uow: UnitOfWork, *, policy_ids: Sequence[int], actor: Principal, via: str
) -> list[PolicyRead]:
    """Give every policy its place in ``policy_ids`` (which must name each policy once)."""
    permissions.require_manage(actor)
    policies = {p.id: p for p in repository.policies(uow.session)}
    if sorted(policy_ids) != sorted(policies):
        raise InvalidPolicy(
            field="policy_ids",
            reason=f"list every policy once: {sorted(policies)}",
        )
    changes: list[Change] = []
    for position, policy_id in enumerate(policy_ids):
        policy = policies[policy_id]
        if policy.position != position:
            changes.append(Change(str(policy_id), policy.position, position))
            policy.position = position
            policy.updated_at = uow.clock.now()
    if changes:
        uow.session.flush()
        for change in changes:
            _record(
                uow,
                int(change.field or 0),
                action="sla.policy_moved",
                actor=actor,
                via=via,
                changes=[Change("position", change.old, change.new)],
            )
        _changed(uow)
    return list_policies(uow, actor=actor)


# --- the dry run --------------------------------------------------------------------------


def match_policy(uow: UnitOfWork, *, data: MatchRequest, actor: Principal) -> MatchRead:
    """Which policy applies to a ticket (or to the given attributes), and why."""
    permissions.require_read(actor)
    facts = _facts(uow, data, actor)
    book = rulebook.rulebook(uow)
    result = explain_match(book.policies, facts)
    chosen = result.chosen
    targets = targets_for(book.setups[chosen.id].targets, facts.priority) if chosen else {}
    if chosen is not None:
        reason = _("“{name}” is the first active policy whose conditions all hold.").render(
            actor.locale, name=chosen.name
        )
    else:
        reason = _("No active policy matches: the ticket has no SLA clocks.").render(actor.locale)
    return MatchRead(
        policy_id=chosen.id if chosen else None,
        policy_name=chosen.name if chosen else None,
        reason=reason,
        facts={
            "priority": facts.priority,
            "type": facts.type,
            "channel": facts.channel,
            "customer_tier": facts.customer_tier,
            "company_id": facts.company_id,
            "team_id": facts.team_id,
            "tags": sorted(facts.tags),
        },
        targets=[
            TargetRead(
                priority=Priority(facts.priority),
                kind=kind,
                minutes=target.minutes,
                business_time=target.business_time,
            )
            for kind, target in sorted(targets.items(), key=lambda i: list(TargetKind).index(i[0]))
        ],
        evaluated=[
            PolicyEvaluationRead(
                policy_id=e.policy.id,
                name=e.policy.name,
                position=e.policy.position,
                is_active=e.policy.is_active,
                matched=e.matched,
                chosen=chosen is not None and e.policy.id == chosen.id,
                checks=[
                    CheckRead(field=c.field, wanted=list(c.wanted), actual=c.actual, holds=c.holds)
                    for c in e.checks
                ],
            )
            for e in result.evaluations
        ],
    )


def _facts(uow: UnitOfWork, data: MatchRequest, actor: Principal) -> TicketFacts:
    base: dict[str, Any] = {}
    if data.ticket_id is not None:
        ticket = tickets.get_ticket(uow, ticket_id=data.ticket_id, actor=actor)
        known = ticket_facts(uow, ticket)
        base = {
            "priority": known.priority,
            "type": known.type,
            "channel": known.channel,
            "customer_tier": known.customer_tier,
            "company_id": known.company_id,
            "team_id": known.team_id,
            "tags": known.tags,
        }
    given = data.model_fields_set - {"ticket_id"}
    for name in ("priority", "type", "channel", "customer_tier"):
        value = getattr(data, name)
        if name in given and value is not None:
            base[name] = value.value
    for name in ("company_id", "team_id"):
        if name in given:
            base[name] = getattr(data, name)
    if "tags" in given and data.tags is not None:
        base["tags"] = frozenset(normalise_tags(data.tags))
    return TicketFacts(
        priority=base["priority"],
        type=base["type"],
        channel=base["channel"],
        customer_tier=base.get("customer_tier", "standard"),
        company_id=base.get("company_id"),
        team_id=base.get("team_id"),
        tags=frozenset(base.get("tags", frozenset())),
    )
