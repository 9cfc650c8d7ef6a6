"""The composition root: which feature reacts to which event (Cosmic Python's bootstrap)."""

from __future__ import annotations

from closeloop.kit.events import EventBus


def build_event_bus() -> EventBus:
    """Subscriptions are added here as features that react to ticket events arrive."""
    return EventBus()
