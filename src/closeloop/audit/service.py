"""Writing and checking the audit trail.

:func:`record` is called by every use case that changes something, inside the same transaction,
so a change and its audit row are committed (or rolled back) together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert

from closeloop.audit import repository
from closeloop.audit.chain import GENESIS_HASH, AuditEntry, ChainBreak, entry_hash, verify_chain
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork

_HEADS_KEY = "audit_chain_heads"
# Entities whose chain began in this transaction → every row written for them since, as
# (occurred_at, action, field, new_value): their whole trail, known without reading it.
_NEW_TRAILS_KEY = "audit_new_trails"
# The public name of a stored audit row for other features (the model module is private).
AuditRecord = AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it, as written into the trail (a snapshot: names may change later)."""

    type: str
    id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class Change:
    field: str | None
    old: Any = None
    new: Any = None


def record(
    uow: UnitOfWork,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    actor: Actor,
    via: str,
    changes: Iterable[Change] = (),
    is_public: bool = False,
    new_entity: bool = False,
) -> None:
    """Append one row per change (or one row without a field when there are none)."""
    items = list(changes) or [Change(field=None)]
    heads: dict[tuple[str, int], tuple[int, str]] = uow.session.info.setdefault(_HEADS_KEY, {})
    key = (entity_type, entity_id)
    head = heads.get(key)
    if head is None and not new_entity:
        head = repository.chain_head(uow.session, entity_type, entity_id)
    sequence, previous = head if head is not None else (0, GENESIS_HASH)
    occurred_at = uow.clock.now()
    rows: list[dict[str, Any]] = []
    for item in items:
        sequence += 1
        entry = AuditEntry(
            occurred_at=occurred_at,
            entity_type=entity_type,
            entity_id=entity_id,
            sequence=sequence,
            action=action,
            field=item.field,
            old_value=item.old,
            new_value=item.new,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_name=actor.name,
            via=via,
            is_public=is_public,
        )
        digest = entry_hash(previous, entry)
        rows.append(
            {
                "occurred_at": occurred_at,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "sequence": sequence,
                "action": action,
                "field": item.field,
                "old_value": item.old,
                "new_value": item.new,
                "actor_type": actor.type,
                "actor_id": actor.id,
                "actor_name": actor.name,
                "via": via,
                "is_public": is_public,
                "previous_hash": previous,
                "hash": digest,
            }
        )
        previous = digest
    uow.session.execute(insert(AuditEvent), rows)
    # Cached for the next record on this entity in the same transaction; a rollback clears
    # session.info (see UnitOfWork.rollback), so a stale head never outlives its transaction.
    heads[key] = (sequence, previous)
    _remember_new_trail(uow, key, rows, new_entity=new_entity and head is None)


def _remember_new_trail(
    uow: UnitOfWork, key: tuple[str, int], rows: list[dict[str, Any]], *, new_entity: bool
) -> None:
    trails: dict[tuple[str, int], tuple[tuple[Any, ...], ...]] | None = uow.session.info.get(
        _NEW_TRAILS_KEY
    )
    if trails is None:
        if not new_entity:
            return
        trails = {}
        uow.session.info[_NEW_TRAILS_KEY] = trails
        # Another transaction may add to the trail once this one commits.
        uow.after_commit(lambda: uow.session.info.pop(_NEW_TRAILS_KEY, None))
    if not new_entity and key not in trails:
        return
    written = tuple((r["occurred_at"], r["action"], r["field"], r["new_value"]) for r in rows)
    # A new tuple, never changed in place: a savepoint that rolls back restores the old one.
    trails[key] = trails.get(key, ()) + written


def trail_if_new(
    uow: UnitOfWork, *, entity_type: str, entity_id: int
) -> tuple[tuple[Any, ...], ...] | None:
    """The entity's whole trail as (occurred_at, action, field, new_value) rows, oldest first,
    when it began in this transaction (nothing else can have written to it yet); None
    otherwise (read :func:`timeline`)."""
    trails = uow.session.info.get(_NEW_TRAILS_KEY)
    if trails is None:
        return None
    found: tuple[tuple[Any, ...], ...] | None = trails.get((entity_type, entity_id))
    return found


def timeline(
    uow: UnitOfWork, *, entity_type: str, entity_id: int, public_only: bool = False
) -> list[AuditRecord]:
    return list(repository.events_for(uow.session, entity_type, entity_id, public_only=public_only))


def _as_entry(event: AuditEvent) -> AuditEntry:
    return AuditEntry(
        occurred_at=event.occurred_at,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        sequence=event.sequence,
        action=event.action,
        field=event.field,
        old_value=event.old_value,
        new_value=event.new_value,
        actor_type=event.actor_type,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        via=event.via,
        is_public=event.is_public,
    )


def verify(
    uow: UnitOfWork, *, entity_type: str | None = None
) -> dict[tuple[str, int], list[ChainBreak]]:
    """Recompute every chain; return the broken ones (empty when the trail is intact)."""
    broken: dict[tuple[str, int], list[ChainBreak]] = {}
    for kind, entity_id in repository.entity_keys(uow.session, entity_type):
        events = repository.events_for(uow.session, kind, entity_id)
        breaks = verify_chain([(_as_entry(e), e.previous_hash, e.hash) for e in events])
        if breaks:
            broken[(kind, entity_id)] = breaks
    return broken
