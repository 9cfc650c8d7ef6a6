"""What routing tells other features (handled in the publishing transaction, see wiring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TicketPingPonged:
    """A ticket was passed between teams ``transfers`` times: the leads should decide who owns
    it. ``suggested_team_id`` is the escalation team (if one is set); ``moved`` says whether the
    ticket was moved there already."""

    ticket_id: int
    transfers: int
    team_id: int | None
    lead_ids: tuple[int, ...]
    suggested_team_id: int | None
    moved: bool
