"""The shape of a demo topic: what a ticket is about, in Chinese and in English."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.tickets.domain import TicketType

SUPPORT = "support"
BILLING = "billing"
SUCCESS = "success"


@dataclass(frozen=True, slots=True)
class Script:
    """One language's wording of a topic."""

    subjects: tuple[str, ...]
    descriptions: tuple[str, ...]
    replies: tuple[str, ...]
    follow_ups: tuple[str, ...]
    notes: tuple[str, ...]
    resolutions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Texts of a topic that belong together: positions in the ``Script`` tuples, which are
    written in the same order in both languages."""

    subjects: tuple[int, ...]
    description: int
    replies: tuple[int, ...]
    follow_ups: tuple[int, ...]
    resolutions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    team: str
    ticket_type: TicketType
    # -1 makes the ticket more urgent than usual, +1 less.
    urgency: int
    tags: tuple[str, ...]
    weight: int
    scenarios: tuple[Scenario, ...]
    zh: Script
    en: Script

    def script(self, locale: str) -> Script:
        return self.zh if locale == "zh_CN" else self.en
