"""Idempotency keys: the first answer to a keyed request is stored with its effect, in the same
transaction, and given again for a repeated request instead of doing the work twice."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.idempotency import repository
from closeloop.idempotency.errors import IdempotencyKeyInvalid, IdempotencyKeyReused
from closeloop.idempotency.models import IdempotencyRecord

RETENTION = timedelta(days=7)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: Any


def request_fingerprint(method: str, path: str, payload: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), payload])).hexdigest()


def validate_key(key: str) -> None:
    if not (0 < len(key) <= MAX_KEY_LENGTH) or not all(33 <= ord(ch) <= 126 for ch in key):
        raise IdempotencyKeyInvalid()


def replay(
    uow: UnitOfWork, *, principal_key: str, key: str, fingerprint: str
) -> StoredResponse | None:
    """The stored response for this key, or None if the key is new."""
    found = repository.find(uow.session, principal_key, key)
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise IdempotencyKeyReused(key=key)
    return StoredResponse(status_code=found.status_code, body=found.response_body)


def remember(
    uow: UnitOfWork,
    *,
    principal_key: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    response: StoredResponse,
) -> None:
    uow.session.add(
        IdempotencyRecord(
            principal_key=principal_key,
            key=key,
            method=method,
            path=path[:255],
            request_hash=fingerprint,
            status_code=response.status_code,
            response_body=response.body,
            created_at=uow.clock.now(),
        )
    )


def purge_expired(uow: UnitOfWork) -> int:
    return repository.delete_older_than(uow.session, uow.clock.now() - RETENTION)
