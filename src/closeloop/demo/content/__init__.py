"""What the demo tickets say: topics with Chinese and English wording, and the fillers that vary
them. Pure data and string filling, no I/O. A text is a ``str.format`` template whose names in
braces come from :func:`slot_values`.
"""

from __future__ import annotations

from closeloop.demo.content import billing, success, support
from closeloop.demo.content.fillers import fill, localised_slots, slot_values
from closeloop.demo.content.topic import BILLING, SUCCESS, SUPPORT, Scenario, Script, Topic
from closeloop.demo.content.wording import (
    AGENT_UPDATES,
    ASK_FOR_INFO,
    CUSTOMER_CHASERS,
    CUSTOMER_REOPENS,
    CUSTOMER_THANKS,
    GREETINGS,
    SIGNATURES,
    THIRD_PARTY_NOTES,
)

TOPICS: tuple[Topic, ...] = support.TOPICS + billing.TOPICS + success.TOPICS

__all__ = [
    "AGENT_UPDATES",
    "ASK_FOR_INFO",
    "BILLING",
    "CUSTOMER_CHASERS",
    "CUSTOMER_REOPENS",
    "CUSTOMER_THANKS",
    "GREETINGS",
    "SIGNATURES",
    "SUCCESS",
    "SUPPORT",
    "THIRD_PARTY_NOTES",
    "TOPICS",
    "Scenario",
    "Script",
    "Topic",
    "fill",
    "localised_slots",
    "slot_values",
]
