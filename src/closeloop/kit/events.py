"""A tiny in-process event bus.

Services publish events into the unit of work while it is open. Two kinds of subscribers:

- *in-transaction* handlers run inside the same unit of work just before it commits, so what
  they write (SLA clocks, outbox rows for notifications) commits or rolls back together with the
  change that caused it;
- *after-commit* handlers run once the commit succeeded (cache invalidation, live updates), so
  they never see a change that was rolled back.

Subscriptions are made in ``closeloop.wiring``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]
# Receives the unit of work (typed Any: kit must not import the db layer) and the event.
TransactionHandler = Callable[[Any, Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[type[Any], list[Handler]] = defaultdict(list)
        self._transaction_handlers: defaultdict[type[Any], list[TransactionHandler]] = defaultdict(
            list
        )

    def subscribe(self, event_type: type[Any], handler: Handler) -> None:
        """Run ``handler(event)`` after the publishing unit of work committed."""
        self._handlers[event_type].append(handler)

    def subscribe_in_transaction(self, event_type: type[Any], handler: TransactionHandler) -> None:
        """Run ``handler(uow, event)`` inside the publishing unit of work, before it commits."""
        self._transaction_handlers[event_type].append(handler)

    def publish(self, event: object) -> None:
        for event_type, handlers in list(self._handlers.items()):
            if isinstance(event, event_type):
                for handler in handlers:
                    handler(event)

    def handle_in_transaction(self, uow: object, event: object) -> None:
        for event_type, handlers in list(self._transaction_handlers.items()):
            if isinstance(event, event_type):
                for handler in handlers:
                    handler(uow, event)
