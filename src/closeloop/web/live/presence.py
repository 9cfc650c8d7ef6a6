"""Who is looking at which ticket right now ("李雷 is viewing this ticket").

A ticket page calls ``touch`` when it is shown and again every ~15 s while open (an htmx
``hx-trigger="every 15s"`` ping), ``leave`` when the agent navigates away; ``viewers`` lists
those touched within the last ``ttl`` seconds (30 by default). When the set of viewers changes,
an event ``{"event": "presence", "ticket_id": ...}`` goes to the ``ticket:<id>`` topic.

Storage: a Redis hash per ticket (field = agent id, value = name and last touch; the key expires
``ttl`` seconds after the last touch) when Redis is configured, so every web process sees the
same viewers; else an in-process dict with expiry.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Protocol

import redis
from fastapi import Depends, Request

from closeloop.kit.clock import Clock, SystemClock
from closeloop.kit.logging import get_logger

log = get_logger(__name__)
DEFAULT_TTL = timedelta(seconds=30)
DEFAULT_KEY_PREFIX = "closeloop:presence:"


@dataclass(frozen=True, slots=True)
class Viewer:
    agent_id: int
    name: str
    seen_at: datetime


class Publisher(Protocol):
    def publish(self, topic: str, data: dict[str, object], /) -> None: ...


class Presence:
    def __init__(
        self,
        *,
        clock: Clock | None = None,
        redis_url: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        publisher: Publisher | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.ttl = ttl
        self.key_prefix = key_prefix
        self.publisher = publisher
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2) if redis_url else None
        self._lock = threading.Lock()
        self._local: dict[int, dict[int, Viewer]] = {}

    def touch(self, ticket_id: int, agent_id: int, name: str) -> None:
        """``agent_id`` is viewing the ticket now."""
        now = self.clock.now()
        viewer = Viewer(agent_id=agent_id, name=name, seen_at=now)
        if self._redis is None:
            with self._lock:
                current = self._fresh(ticket_id, now)
                is_new = agent_id not in current
                current[agent_id] = viewer
        else:
            is_new = self._redis_touch(ticket_id, viewer)
        if is_new:
            self._announce(ticket_id)

    def leave(self, ticket_id: int, agent_id: int) -> None:
        """``agent_id`` stopped viewing the ticket."""
        if self._redis is None:
            with self._lock:
                was_there = self._local.get(ticket_id, {}).pop(agent_id, None) is not None
        else:
            try:
                was_there = bool(self._redis.hdel(self._key(ticket_id), str(agent_id)))
            except (redis.RedisError, OSError):
                log.warning("presence.unavailable")
                was_there = False
        if was_there:
            self._announce(ticket_id)

    def viewers(self, ticket_id: int) -> list[Viewer]:
        """Who viewed the ticket within the last ``ttl``, by name."""
        now = self.clock.now()
        if self._redis is None:
            with self._lock:
                found = list(self._fresh(ticket_id, now).values())
        else:
            found = self._redis_viewers(ticket_id, now)
        return sorted(found, key=lambda v: (v.name, v.agent_id))

    # --- in process ------------------------------------------------------------------------

    def _fresh(self, ticket_id: int, now: datetime) -> dict[int, Viewer]:
        """The ticket's viewers without the expired ones (call with the lock held)."""
        current = self._local.setdefault(ticket_id, {})
        for agent_id in [a for a, v in current.items() if now - v.seen_at > self.ttl]:
            del current[agent_id]
        return current

    # --- Redis -----------------------------------------------------------------------------

    def _key(self, ticket_id: int) -> str:
        return f"{self.key_prefix}{ticket_id}"

    def _redis_touch(self, ticket_id: int, viewer: Viewer) -> bool:
        assert self._redis is not None
        key = self._key(ticket_id)
        value = json.dumps({"name": viewer.name, "seen_at": viewer.seen_at.timestamp()})
        try:
            before = self._redis_viewers(ticket_id, viewer.seen_at)
            pipe = self._redis.pipeline()
            pipe.hset(key, str(viewer.agent_id), value)
            pipe.expire(key, max(1, int(self.ttl.total_seconds())))
            pipe.execute()
        except (redis.RedisError, OSError):
            log.warning("presence.unavailable")
            return False
        return all(v.agent_id != viewer.agent_id for v in before)

    def _redis_viewers(self, ticket_id: int, now: datetime) -> list[Viewer]:
        assert self._redis is not None
        key = self._key(ticket_id)
        try:
            raw: dict[bytes, bytes] = self._redis.hgetall(key)  # type: ignore[assignment]
        except (redis.RedisError, OSError):
            log.warning("presence.unavailable")
            return []
        found: list[Viewer] = []
        stale: list[bytes] = []
        for field_name, value in raw.items():
            try:
                decoded = json.loads(value)
                seen_at = datetime.fromtimestamp(float(decoded["seen_at"]), tz=now.tzinfo)
                viewer = Viewer(int(field_name), str(decoded["name"]), seen_at)
            except (ValueError, KeyError, TypeError):
                stale.append(field_name)
                continue
            if now - viewer.seen_at > self.ttl:
                stale.append(field_name)
            else:
                found.append(viewer)
        if stale:
            with contextlib.suppress(redis.RedisError, OSError):
                self._redis.hdel(key, *stale)
        return found

    def _announce(self, ticket_id: int) -> None:
        if self.publisher is not None:
            self.publisher.publish(
                f"ticket:{ticket_id}", {"event": "presence", "ticket_id": ticket_id}
            )

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


async def get_presence(request: Request) -> Presence:
    presence: Presence = request.app.state.presence
    return presence


LivePresence = Annotated[Presence, Depends(get_presence)]
