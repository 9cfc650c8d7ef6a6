"""Counting attempts per key in fixed time windows: sign-in throttling, public form limits.

    allowed = throttle.hit(uow, key="webform:ip:203.0.113.9", limit=10, window=timedelta(hours=1))

``hit`` counts one attempt and says whether it is within the limit; ``exceeded`` only looks.
A window starts at a multiple of its length (UTC), so "5 failures per 15 minutes" locks a key
until the end of the window in which the fifth failure happened. Counting is one upsert, safe
when several processes count the same key at once. Keys are opaque strings of at most 200
characters; callers hash anything personal (see ``account_key``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from closeloop.accounts.models import RateLimitBucket
from closeloop.db.session import UnitOfWork

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window containing ``now``."""
    elapsed = now - _EPOCH
    return _EPOCH + (elapsed // window) * window


def account_key(purpose: str, identifier: str) -> str:
    """A key naming a person without storing who they are: ``login:account:<sha256>``."""
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:40]
    return f"{purpose}:{digest}"


def hit(uow: UnitOfWork, *, key: str, limit: int, window: timedelta) -> bool:
    """Count one attempt for ``key``; True while at most ``limit`` attempts fell in the
    current window (this one included)."""
    return count_hit(uow, key=key, window=window) <= limit


def count_hit(uow: UnitOfWork, *, key: str, window: timedelta) -> int:
    """Count one attempt for ``key`` and return the window's count so far."""
    start = window_start(uow.clock.now(), window)
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = (
        insert(RateLimitBucket)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[RateLimitBucket.key, RateLimitBucket.window_start],
            set_={"count": RateLimitBucket.count + 1},
        )
        .returning(RateLimitBucket.count)
    )
    count = int(uow.session.execute(upsert).scalar_one())
    if count == 1:
        # The first attempt of a new window: earlier windows of this key are history.
        uow.session.execute(
            delete(RateLimitBucket).where(
                RateLimitBucket.key == key, RateLimitBucket.window_start < start
            )
        )
    return count


def exceeded(uow: UnitOfWork, *, key: str, limit: int, window: timedelta) -> bool:
    """Whether ``key`` already used up its ``limit`` in the current window (counts nothing)."""
    start = window_start(uow.clock.now(), window)
    count = uow.session.scalar(
        select(RateLimitBucket.count).where(
            RateLimitBucket.key == key, RateLimitBucket.window_start == start
        )
    )
    return count is not None and count >= limit


def reset(uow: UnitOfWork, *, key: str) -> None:
    """Forget the attempts of ``key`` (after a successful sign-in)."""
    uow.session.execute(delete(RateLimitBucket).where(RateLimitBucket.key == key))


def purge_before(uow: UnitOfWork, *, before: datetime) -> int:
    """Delete the windows that started before ``before``; return how many."""
    result = uow.session.execute(
        delete(RateLimitBucket).where(RateLimitBucket.window_start < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
