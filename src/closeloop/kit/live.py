"""Publishing live events over Redis pub/sub, from any thread or process.

The web processes' broker (``closeloop.web.live.broker``) listens on the same channels and
fans the events out to its Server-Sent Event streams; worker processes only publish, with
:class:`RedisPublisher`. One message is the JSON ``{"topic": ..., "data": {...}}`` on the
channel ``<prefix><topic>``. Publishing is best effort: a failure is logged, never raised.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import redis

from closeloop.kit.logging import get_logger

log = get_logger(__name__)
DEFAULT_CHANNEL_PREFIX = "closeloop:live:"


def encode(topic: str, data: Mapping[str, Any]) -> str:
    return json.dumps({"topic": topic, "data": dict(data)}, separators=(",", ":"))


def decode(raw: str | bytes) -> tuple[str, dict[str, Any]] | None:
    """The (topic, data) of a message, or None when it is not one of ours."""
    try:
        envelope = json.loads(raw)
        return str(envelope["topic"]), dict(envelope["data"])
    except (ValueError, KeyError, TypeError):
        return None


class RedisPublisher:
    """A thread-safe, synchronous publisher (redis-py's pooled client)."""

    def __init__(self, redis_url: str, *, channel_prefix: str = DEFAULT_CHANNEL_PREFIX) -> None:
        self.redis_url = redis_url
        self.channel_prefix = channel_prefix
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None

    def publish(self, topic: str, data: Mapping[str, Any], /) -> None:
        try:
            self._connection().publish(self.channel_prefix + topic, encode(topic, data))
        except (redis.RedisError, OSError):
            log.warning("live.publish_failed", topic=topic)

    def _connection(self) -> redis.Redis:
        with self._lock:
            if self._client is None:
                self._client = redis.Redis.from_url(
                    self.redis_url, socket_timeout=2, socket_connect_timeout=2
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
