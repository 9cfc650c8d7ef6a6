"""Engines, sessions and the unit of work.

The unit of work owns the transaction: services receive it, change things through its session
and publish events into it; only the delivery layer (a request handler, a job runner, a CLI
command) calls :meth:`UnitOfWork.commit`. Events and after-commit callbacks run only after a
successful commit, so nobody reacts to a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from closeloop.kit.clock import Clock, SystemClock
from closeloop.kit.events import EventBus


def create_database_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if database in (None, "", ":memory:") else None,
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and SQLAlchemy's recipe so BEGIN/SAVEPOINT behave as documented."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's implicit transaction handling is switched off; SQLAlchemy emits BEGIN below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process; only an OS crash can lose the last commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front (IMMEDIATE), so two writers queue on the busy
        # timeout instead of failing when a read transaction tries to become a write one.
        # Readers begin DEFERRED: in WAL mode they never wait for a writer.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY_OPTION = "closeloop_read_only"


def create_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``read_only`` ones begin without taking SQLite's write lock."""
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


def _copy_cache(value: Any) -> Any:
    # session.info caches are containers changed in place (sets, dicts of tuples): one level.
    if isinstance(value, dict | set | list):
        return value.copy()
    return value


class UnitOfWork:
    """One business transaction: a session, the events it raised, what to do after commit."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        # Reads must not write (e.g. "last used" stamps): on SQLite that would need the lock.
        self.read_only = read_only
        self.bus = bus or EventBus()
        self.clock: Clock = clock or SystemClock()
        self._events: list[object] = []
        self._handled = 0
        self._after_commit: list[Callable[[], None]] = []
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def publish(self, event_object: object) -> None:
        self._events.append(event_object)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block in a savepoint. When the block raises, the savepoint rolls back and so
        does what the block left in this unit of work: the events it published (and those their
        handlers published), its after-commit callbacks, the handling of earlier events it ran
        (they run again at commit), and the caches kept in ``session.info``. The error goes on
        to the caller, who decides (quarantine a message, log a failed notification...)."""
        events, handled, callbacks = len(self._events), self._handled, len(self._after_commit)
        info = {key: _copy_cache(value) for key, value in self.session.info.items()}
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self._events[events:]
            self._handled = min(self._handled, handled)
            del self._after_commit[callbacks:]
            self.session.info.clear()
            self.session.info.update(info)
            raise

    def handle_pending(self) -> None:
        """Run the in-transaction handlers of the events published so far (and of the events
        they publish in turn), so a response can show their effect before the commit."""
        while self._handled < len(self._events):
            event_object = self._events[self._handled]
            self._handled += 1
            self.bus.handle_in_transaction(self, event_object)

    def commit(self) -> None:
        self.handle_pending()
        self.session.commit()
        events, self._events = self._events, []
        self._handled = 0
        callbacks, self._after_commit = self._after_commit, []
        for event_object in events:
            self.bus.publish(event_object)
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._events.clear()
        self._handled = 0
        self._after_commit.clear()
        if self._session is not None:
            self._session.rollback()
            self._session.info.clear()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()
        self.close()
