"""Task name → handler. Filled in ``closeloop.wiring.build_job_registry`` from each feature's
``tasks.py``; the worker looks every job's handler up here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import is_task_name

Handler = Callable[[UnitOfWork, Mapping[str, Any]], None]
"""Runs one job: change things through ``uow`` (never commit: the worker commits on success,
together with marking the job done). Raise to fail the attempt; it is retried with backoff.
Handlers must be idempotent: after a crash between an external effect (an email sent) and the
commit, the job runs again."""


class UnknownTask(LookupError):
    """No handler is registered under this task name."""


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        if not is_task_name(name):
            raise ValueError(f"task names look like 'feature.verb', not {name!r}")
        if name in self._handlers:
            raise ValueError(f"task {name!r} is registered twice")
        self._handlers[name] = handler

    def register_all(self, handlers: Mapping[str, Handler]) -> None:
        """Register a feature's ``tasks.TASKS`` mapping."""
        for name, handler in handlers.items():
            self.register(name, handler)

    def handler_for(self, name: str) -> Handler:
        try:
            return self._handlers[name]
        except KeyError:
            raise UnknownTask(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)
