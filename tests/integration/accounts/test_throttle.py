"""Fixed-window counters (``accounts.throttle``) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from closeloop.accounts import throttle
from closeloop.accounts.models import RateLimitBucket
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock

WINDOW = timedelta(minutes=15)


def test_windows_start_at_multiples_of_their_length() -> None:
    at = datetime(2026, 11, 25, 14, 37, 12, tzinfo=UTC)
    assert throttle.window_start(at, WINDOW) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert throttle.window_start(at, timedelta(hours=1)) == datetime(
        2026, 11, 25, 14, 0, tzinfo=UTC
    )


def test_hit_allows_up_to_the_limit_within_a_window(uow: UnitOfWork, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 11, 25, 14, 31, tzinfo=UTC))
    answers = [throttle.hit(uow, key="form:ip:1", limit=3, window=WINDOW) for _ in range(4)]
    assert answers == [True, True, True, False]
    assert throttle.exceeded(uow, key="form:ip:1", limit=3, window=WINDOW)
    assert not throttle.exceeded(uow, key="form:ip:2", limit=3, window=WINDOW)

    clock.set(datetime(2026, 11, 25, 14, 45, tzinfo=UTC))  # the next window
    assert not throttle.exceeded(uow, key="form:ip:1", limit=3, window=WINDOW)
    assert throttle.hit(uow, key="form:ip:1", limit=3, window=WINDOW)


def test_a_new_window_forgets_the_old_ones_of_its_key(uow: UnitOfWork, clock: FrozenClock) -> None:
    for minutes in (0, 15, 30):
        clock.advance(timedelta(minutes=minutes))
        throttle.count_hit(uow, key="k", window=WINDOW)
    uow.commit()
    rows = uow.session.scalar(select(func.count()).where(RateLimitBucket.key == "k"))
    assert rows == 1


def test_counts_survive_the_transaction_and_are_shared(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    for _ in range(2):
        with make_uow() as unit:
            throttle.count_hit(unit, key="shared", window=WINDOW)
            unit.commit()
    with make_uow() as unit:
        assert throttle.count_hit(unit, key="shared", window=WINDOW) == 3


def test_reset_and_purge(uow: UnitOfWork, clock: FrozenClock) -> None:
    throttle.count_hit(uow, key="a", window=WINDOW)
    throttle.count_hit(uow, key="b", window=WINDOW)
    throttle.reset(uow, key="a")
    assert not throttle.exceeded(uow, key="a", limit=1, window=WINDOW)
    assert throttle.exceeded(uow, key="b", limit=1, window=WINDOW)
    clock.advance(timedelta(hours=1))
    assert throttle.purge_before(uow, before=clock.now() - WINDOW) == 1


def test_account_keys_do_not_store_the_email() -> None:
    key = throttle.account_key("login:account", " Li.Lei@Example.com ")
    assert key == throttle.account_key("login:account", "li.lei@example.com")
    assert "example" not in key
    assert key.startswith("login:account:")
    assert len(key) <= 200


def test_the_hourly_purge_drops_old_windows_and_expired_sessions(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    from tests.builders import make_agent, principal_of

    from closeloop.accounts import service as accounts
    from closeloop.accounts.tasks import purge_expired

    agent = make_agent(uow)
    accounts.start_login_session(
        uow, principal=principal_of(uow, agent), lifetime=timedelta(hours=1)
    )
    throttle.count_hit(uow, key="old", window=WINDOW)
    uow.commit()
    clock.advance(timedelta(days=2))
    throttle.count_hit(uow, key="recent", window=WINDOW)
    purge_expired(uow, {})
    uow.commit()
    keys = set(uow.session.scalars(select(RateLimitBucket.key)))
    assert keys == {"recent"}
