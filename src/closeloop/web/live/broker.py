"""Fan-out of live events to the SSE streams of this and every other web process.

``Broker.publish(topic, data)`` may be called from any thread (request threads, the embedded
worker thread, a ``closeloop worker`` process); ``Broker.subscribe(topics)`` / ``subscription``
run on the event loop of the web process.

- Without Redis, publishing hands the event to each local subscriber's asyncio queue through
  ``loop.call_soon_threadsafe``: one process sees its own events only.
- With Redis (``CLOSELOOP_REDIS_URL``), publishing is a Redis ``PUBLISH`` (synchronous client,
  fine from worker threads and processes) and nothing is delivered locally; one listener task per
  process (``redis.asyncio``, pattern subscription) receives every event, its own included, and
  fans it out to the local subscribers. The listener reconnects with backoff.

Live updates are best effort: a lost event only delays a refresh (pages also reload on their
own), so failures are logged, never raised into the code that published.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import redis
import redis.asyncio as redis_async

from closeloop.kit.live import DEFAULT_CHANNEL_PREFIX, RedisPublisher, decode
from closeloop.kit.logging import get_logger

log = get_logger(__name__)
QUEUE_LIMIT = 256
Event = tuple[str, dict[str, Any]]


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue of ``(topic, data)``; use ``async with`` to register it."""

    broker: Broker
    topics: frozenset[str]
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    loop: asyncio.AbstractEventLoop | None = None
    overflowed: bool = False

    async def __aenter__(self) -> Subscription:
        self.loop = asyncio.get_running_loop()
        await self.broker._register(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.broker._unregister(self)

    def _offer(self, event: Event) -> None:
        """Runs on the subscriber's loop. A subscriber too slow to keep up loses the oldest
        event (its page refetches anyway)."""
        if self.queue.full():
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self, timeout: float | None = None) -> Event | None:
        """The next event, or None when ``timeout`` seconds pass without one."""
        if timeout is None:
            return await self.queue.get()
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()


class Broker:
    def __init__(
        self, redis_url: str | None = None, *, channel_prefix: str = DEFAULT_CHANNEL_PREFIX
    ) -> None:
        self.redis_url = redis_url or None
        self.channel_prefix = channel_prefix
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._publisher = (
            RedisPublisher(redis_url, channel_prefix=channel_prefix) if redis_url else None
        )
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None

    # --- publishing (any thread) ---------------------------------------------------------

    def publish(self, topic: str, data: Mapping[str, Any]) -> None:
        if self._publisher is None:
            self._deliver(topic, dict(data))
        else:
            self._publisher.publish(topic, data)

    def _deliver(self, topic: str, data: dict[str, Any]) -> None:
        with self._lock:
            targets = [s for s in self._subscribers if topic in s.topics]
        for subscription in targets:
            loop = subscription.loop
            if loop is None or loop.is_closed():
                self._unregister(subscription)
                continue
            try:
                loop.call_soon_threadsafe(subscription._offer, (topic, data))
            except RuntimeError:  # the loop closed meanwhile
                self._unregister(subscription)

    # --- subscribing (on an event loop) --------------------------------------------------

    def subscription(self, topics: Iterable[str]) -> Subscription:
        return Subscription(self, frozenset(topics))

    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[Event]:
        """``async for topic, data in broker.subscribe(["tickets"]): ...``"""
        async with self.subscription(topics) as subscription:
            async for event in subscription:
                yield event

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    async def _register(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.add(subscription)
        if self.redis_url is not None:
            await self._ensure_listener()

    def _unregister(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    async def _ensure_listener(self) -> None:
        """Start the Redis listener on this loop (once), and wait until it is subscribed, so
        an event published right after ``subscribe`` returns is not missed."""
        loop = asyncio.get_running_loop()
        listener = self._listener
        if listener is None or listener.done() or listener.get_loop() is not loop:
            self._ready = asyncio.Event()
            self._listener = loop.create_task(
                self._listen(self._ready), name="closeloop-live-listener"
            )
        assert self._ready is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5)

    async def _listen(self, ready: asyncio.Event) -> None:
        assert self.redis_url is not None
        delay = 0.5
        while True:
            client = redis_async.Redis.from_url(self.redis_url)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(self.channel_prefix + "*")
                    ready.set()
                    delay = 0.5
                    async for message in pubsub.listen():
                        self._receive(message)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError):
                log.warning("live.listener_disconnected", retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                await client.aclose()

    def _receive(self, message: Mapping[str, Any]) -> None:
        if message.get("type") != "pmessage":
            return
        decoded = decode(message.get("data", b""))
        if decoded is None:
            log.warning("live.bad_message")
            return
        self._deliver(*decoded)

    async def aclose(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        self.close_publisher()

    def close_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
