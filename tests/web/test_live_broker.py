"""The live-update broker (in process and over Redis) and presence."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from closeloop.kit.clock import FrozenClock
from closeloop.web.live.broker import Broker
from closeloop.web.live.presence import Presence, Viewer
from tests.conftest import REDIS_URL

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="CLOSELOOP_TEST_REDIS_URL is not set")
T = TypeVar("T")


def run_alone(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a scenario on an event loop of its own thread: the browser tests leave Playwright's
    loop running on the main thread for the rest of the session."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _prefix() -> str:
    # One Redis namespace per test, so parallel runs never hear each other.
    return f"closeloop-test:{uuid.uuid4().hex}:"


async def _next(subscription: object, timeout: float = 5.0) -> tuple[str, dict[str, object]]:
    event = await subscription.next(timeout=timeout)  # type: ignore[attr-defined]
    assert event is not None, "no event arrived"
    return event  # type: ignore[no-any-return]


def test_in_process_subscribers_get_their_topics_only() -> None:
    async def scenario() -> None:
        broker = Broker()
        async with (
            broker.subscription(["tickets"]) as lists,
            broker.subscription(["ticket:7"]) as page,
        ):
            broker.publish("tickets", {"ticket_id": 7})
            broker.publish("ticket:7", {"ticket_id": 7, "event": "ticket.updated"})
            broker.publish("ticket:8", {"ticket_id": 8})
            assert await _next(lists) == ("tickets", {"ticket_id": 7})
            assert await _next(page) == ("ticket:7", {"ticket_id": 7, "event": "ticket.updated"})
            assert await lists.next(timeout=0.05) is None
            assert await page.next(timeout=0.05) is None
        assert broker.subscriber_count == 0

    run_alone(scenario())


def test_publishing_from_another_thread_reaches_the_loop() -> None:
    async def scenario() -> None:
        broker = Broker()
        async with broker.subscription(["tickets"]) as subscription:

            def publish_three() -> None:
                for n in range(3):
                    broker.publish("tickets", {"n": n})

            worker = threading.Thread(target=publish_three)
            worker.start()
            received = [await _next(subscription) for _ in range(3)]
            worker.join()
        assert received == [("tickets", {"n": 0}), ("tickets", {"n": 1}), ("tickets", {"n": 2})]

    run_alone(scenario())


def test_subscribe_is_an_async_iterator() -> None:
    async def scenario() -> list[tuple[str, dict[str, object]]]:
        broker = Broker()
        events = broker.subscribe(["tickets"])
        first = asyncio.ensure_future(events.__anext__())
        while broker.subscriber_count == 0:
            await asyncio.sleep(0)
        broker.publish("tickets", {"ticket_id": 1})
        got = [await asyncio.wait_for(first, 5)]
        await events.aclose()  # type: ignore[attr-defined]
        assert broker.subscriber_count == 0
        return got

    assert run_alone(scenario()) == [("tickets", {"ticket_id": 1})]


def test_a_slow_subscriber_loses_the_oldest_events_not_the_publisher() -> None:
    async def scenario() -> None:
        broker = Broker()
        async with broker.subscription(["tickets"]) as subscription:
            for n in range(300):
                broker.publish("tickets", {"n": n})
            await asyncio.sleep(0.05)
            assert subscription.overflowed
            first = await _next(subscription)
            assert first == ("tickets", {"n": 300 - subscription.queue.maxsize})

    run_alone(scenario())


def test_a_subscriber_whose_loop_ended_is_dropped() -> None:
    broker = Broker()

    async def subscribe_and_leave_open() -> None:
        subscription = broker.subscription(["tickets"])
        await subscription.__aenter__()

    run_alone(subscribe_and_leave_open())
    broker.publish("tickets", {"ticket_id": 1})  # must not raise
    assert broker.subscriber_count == 0


@needs_redis
def test_redis_carries_events_between_processes() -> None:
    """Two brokers stand for two web processes: a publish in one reaches the other."""
    prefix = _prefix()

    async def scenario() -> None:
        here, there = (
            Broker(REDIS_URL, channel_prefix=prefix),
            Broker(REDIS_URL, channel_prefix=prefix),
        )
        try:
            async with (
                there.subscription(["tickets"]) as remote,
                here.subscription(["tickets"]) as local,
            ):
                # Published from a plain thread, like a `closeloop worker` process would.
                thread = threading.Thread(
                    target=here.publish, args=("tickets", {"ticket_id": 5, "event": "x"})
                )
                thread.start()
                thread.join()
                assert await _next(remote) == ("tickets", {"ticket_id": 5, "event": "x"})
                # Delivered once to the publishing process too, through Redis (not twice).
                assert await _next(local) == ("tickets", {"ticket_id": 5, "event": "x"})
                assert await local.next(timeout=0.2) is None
        finally:
            await here.aclose()
            await there.aclose()

    run_alone(scenario())


@needs_redis
def test_redis_brokers_with_other_prefixes_do_not_hear_each_other() -> None:
    async def scenario() -> None:
        one, other = (
            Broker(REDIS_URL, channel_prefix=_prefix()),
            Broker(REDIS_URL, channel_prefix=_prefix()),
        )
        try:
            async with other.subscription(["tickets"]) as subscription:
                one.publish("tickets", {"ticket_id": 1})
                assert await subscription.next(timeout=0.3) is None
        finally:
            await one.aclose()
            await other.aclose()

    run_alone(scenario())


def test_publishing_to_an_unreachable_redis_is_logged_not_raised() -> None:
    broker = Broker("redis://127.0.0.1:1/0")
    broker.publish("tickets", {"ticket_id": 1})
    broker.close_publisher()


# --- presence ----------------------------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, object]]] = []

    def publish(self, topic: str, data: dict[str, object], /) -> None:
        self.published.append((topic, data))


START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _presences() -> list[tuple[str, str | None]]:
    return [("in_process", None), *([("redis", REDIS_URL)] if REDIS_URL else [])]


@pytest.fixture(params=_presences(), ids=lambda p: p[0])
def presence_setup(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Presence, FrozenClock, _Recorder]]:
    _name, url = request.param
    clock = FrozenClock(START)
    recorder = _Recorder()
    presence = Presence(
        clock=clock,
        redis_url=url,
        ttl=timedelta(seconds=30),
        key_prefix=f"closeloop-test:{uuid.uuid4().hex}:presence:",
        publisher=recorder,
    )
    yield presence, clock, recorder
    presence.close()


def test_viewers_expire_without_a_touch(
    presence_setup: tuple[Presence, FrozenClock, _Recorder],
) -> None:
    presence, clock, _recorder = presence_setup
    presence.touch(12, 1, "李雷")
    clock.advance(timedelta(seconds=20))
    presence.touch(12, 2, "Hanmei")
    assert presence.viewers(12) == [
        Viewer(2, "Hanmei", START + timedelta(seconds=20)),
        Viewer(1, "李雷", START),
    ]
    clock.advance(timedelta(seconds=11))  # 李雷's last touch is 31 s old
    assert [v.agent_id for v in presence.viewers(12)] == [2]
    presence.touch(12, 2, "Hanmei")
    clock.advance(timedelta(seconds=29))
    assert [v.agent_id for v in presence.viewers(12)] == [2]
    assert presence.viewers(13) == []


def test_leave_removes_a_viewer_at_once(
    presence_setup: tuple[Presence, FrozenClock, _Recorder],
) -> None:
    presence, _clock, _recorder = presence_setup
    presence.touch(12, 1, "李雷")
    presence.touch(12, 2, "Hanmei")
    presence.leave(12, 1)
    assert [v.agent_id for v in presence.viewers(12)] == [2]


def test_presence_changes_are_announced_on_the_ticket_topic(
    presence_setup: tuple[Presence, FrozenClock, _Recorder],
) -> None:
    presence, clock, recorder = presence_setup
    presence.touch(12, 1, "李雷")
    presence.touch(12, 1, "李雷")  # still there: no news
    clock.advance(timedelta(seconds=31))
    presence.touch(12, 1, "李雷")  # back after expiring: news again
    presence.leave(12, 1)
    presence.leave(12, 1)  # already gone
    event = ("ticket:12", {"event": "presence", "ticket_id": 12})
    assert recorder.published == [event, event, event]
