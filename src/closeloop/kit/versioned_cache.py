"""A per-process cache of values derived from configuration, keyed by a version token.

The value (say, the SLA rulebook) is built from configuration rows; whoever changes those rows
writes a new version token in the same transaction (``closeloop.db.config_versions``). A reader
compares the token its transaction sees with the token the cached value was built at and
rebuilds only when they differ, so every process follows a change made by any other process as
soon as the change commits, without any message between processes.

Pure: no I/O here. The caller reads the token and passes a ``load`` function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """The latest value built per key (a database), with the version it was built at.

    Thread-safe. Two threads that miss at once may both build the value; the last one stored
    wins, and both values are right for the version they were built at.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[str, T]] = {}
        self.loads = 0  # how many times a value was built (tests and benchmarks read it)

    def get(self, key: Hashable, version: str | None, load: Callable[[], T]) -> T:
        """The value for ``key`` at ``version``, built by ``load`` when the cached one is of
        another version. ``version`` None (no version known) builds every time and stores
        nothing."""
        if version is not None:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                return entry[1]
        value = load()
        with self._lock:
            self.loads += 1
            if version is not None:
                self._entries[key] = (version, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
