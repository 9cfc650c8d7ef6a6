"""Task name → handler. Filled in ``closeloop.wiring.build_job_registry`` from each feature's
``tasks.py``; the worker looks every job's handler up here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import is_task_name

Handler = Callable[[UnitOfWork, Mapping[str, Any]], None]
"""Runs one job: change things through ``uow`` (never commit: the worker commits on success,
together with marking the job done). Raise to fail the attempt; it is retried with backoff.
Handlers must be idempotent: after a crash between an external effect (an email sent) and the
commit, the job runs again."""

PlanT = TypeVar("PlanT")
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True, slots=True)
class ExternalEffect(Generic[PlanT, OutcomeT]):
    """A job whose work is one effect outside the database (an email, a post to a bot), run in
    three steps so that no transaction is open while a remote server answers and the effect's
    outcome is recorded the moment it is known:

    1. ``prepare(uow, payload)`` records the intent (e.g. "sending since") and returns what
       the effect needs; the worker **commits** it, checking the lease first. ``None``: nothing
       to do (already done, cancelled): the job succeeds in that same transaction.
    2. ``perform(plan)`` carries out the effect with no database access and returns its
       outcome; expected failures are outcomes, not exceptions.
    3. ``finish(uow, plan, outcome)`` records the outcome. ``None``: the worker commits it
       together with the job's success. An exception *returned*: it commits together with the
       failed attempt (retried with backoff, dead after the last).

    Raising in any step is an ordinary failure: that step's transaction rolls back. A worker
    that dies after ``prepare`` committed leaves the intent behind, so the next attempt knows
    the effect may have happened already. The steps never commit (check CL001).
    """

    prepare: Callable[[UnitOfWork, Mapping[str, Any]], PlanT | None]
    perform: Callable[[PlanT], OutcomeT]
    finish: Callable[[UnitOfWork, PlanT, OutcomeT], Exception | None]


AnyHandler = Handler | ExternalEffect[Any, Any]


class UnknownTask(LookupError):
    """No handler is registered under this task name."""


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, AnyHandler] = {}

    def register(self, name: str, handler: AnyHandler) -> None:
        if not is_task_name(name):
            raise ValueError(f"task names look like 'feature.verb', not {name!r}")
        if name in self._handlers:
            raise ValueError(f"task {name!r} is registered twice")
        self._handlers[name] = handler

    def register_all(self, handlers: Mapping[str, AnyHandler]) -> None:
        """Register a feature's ``tasks.TASKS`` mapping."""
        for name, handler in handlers.items():
            self.register(name, handler)

    def handler_for(self, name: str) -> AnyHandler:
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
