"""What happened to SLA clocks, for other features to react to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EscalationStepFired:
    """A ladder step fired and asks for people to be told.

    ``notification`` is ``sla.warning`` (a step before the breach), ``sla.breached`` (at the
    breach) or ``sla.escalated`` (after it). ``occurrence`` names this firing, so a reaction
    that runs twice tells nobody twice. Published inside the unit of work that recorded the
    firing: a reaction subscribed in-transaction commits together with it.
    """

    ticket_id: int
    kind: str
    cycle: int
    position: int
    action: str
    notification: str
    agent_ids: tuple[int, ...]
    due_at: datetime
    occurrence: str
