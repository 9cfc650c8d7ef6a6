"""The tamper-evident hash chain of the audit trail (pure).

Each entity (a ticket, an agent…) has its own chain. Entry ``n`` stores the hash of entry ``n - 1``
(:data:`GENESIS_HASH` for the first) and its own hash, computed over its fields and that previous
hash. Changing, deleting, inserting or reordering an entry then breaks the chain from that point on.
Deleting the *last* entries of a chain leaves a shorter chain that is still intact: detecting it
needs an anchor kept elsewhere (the entity's last sequence number or hash).

The hash is SHA-256 over a canonical JSON document, so it can be recomputed by any tool:
keys sorted, no spaces, UTF-8 without escapes, instants as UTC ISO-8601 with microseconds and
``Z``. Values must be JSON (strings, numbers, booleans, null, lists, objects with string keys).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from closeloop.kit.clock import ensure_utc

# Read-only (covariant) containers, so that a ``dict[str, str]`` is accepted where JSON is expected.
JSONValue: TypeAlias = (
    str | int | float | bool | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """What happened, as recorded; the row adds ``previous_hash`` and ``hash``."""

    occurred_at: datetime
    entity_type: str
    entity_id: int
    sequence: int
    action: str
    field: str | None
    old_value: JSONValue
    new_value: JSONValue
    actor_type: str
    actor_id: int | None
    actor_name: str
    via: str
    is_public: bool


class BreakReason(enum.StrEnum):
    sequence_gap = "sequence gap"
    previous_hash_mismatch = "previous hash mismatch"
    hash_mismatch = "hash mismatch"


@dataclass(frozen=True)
class ChainBreak:
    sequence: int
    reason: BreakReason


def format_instant(value: datetime) -> str:
    """``2025-11-24T05:00:00.000000Z``: the form instants take inside the hashed document."""
    return ensure_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_document(previous_hash: str, entry: AuditEntry) -> str:
    """The exact text :func:`entry_hash` digests."""
    document: dict[str, Any] = {
        "occurred_at": format_instant(entry.occurred_at),
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "sequence": entry.sequence,
        "action": entry.action,
        "field": entry.field,
        "old_value": entry.old_value,
        "new_value": entry.new_value,
        "actor_type": entry.actor_type,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "via": entry.via,
        "is_public": entry.is_public,
        "previous_hash": previous_hash,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(previous_hash: str, entry: AuditEntry) -> str:
    """The SHA-256 (64 lower-case hex digits) of ``entry`` chained after ``previous_hash``."""
    return hashlib.sha256(canonical_document(previous_hash, entry).encode("utf-8")).hexdigest()


def verify_chain(entries_with_hashes: Sequence[tuple[AuditEntry, str, str]]) -> list[ChainBreak]:
    """Check one entity's chain, given as ``(entry, previous_hash, hash)`` ordered by sequence.

    Returns every break found, in order; an empty list means the chain is intact. Each entry is
    checked against its stored neighbour, so one tampered entry is reported where it is, and a
    deleted entry is reported at the entry after it.
    """
    breaks: list[ChainBreak] = []
    expected_sequence = 1
    expected_previous = GENESIS_HASH
    for entry, previous_hash, stored_hash in entries_with_hashes:
        if entry.sequence != expected_sequence:
            breaks.append(ChainBreak(entry.sequence, BreakReason.sequence_gap))
        if previous_hash != expected_previous:
            breaks.append(ChainBreak(entry.sequence, BreakReason.previous_hash_mismatch))
        if entry_hash(previous_hash, entry) != stored_hash:
            breaks.append(ChainBreak(entry.sequence, BreakReason.hash_mismatch))
        expected_sequence = entry.sequence + 1
        expected_previous = stored_hash
    return breaks
