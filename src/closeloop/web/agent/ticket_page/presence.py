"""Who else has the ticket open: the page touches the agent's presence when it loads and on
every poll, and shows the other agents seen in the last half minute."""

from __future__ import annotations

from closeloop.accounts.domain import Principal
from closeloop.web.live.presence import Presence, Viewer


def arrive(presence: Presence, ticket_id: int, agent: Principal) -> list[Viewer]:
    """Mark ``agent`` as viewing the ticket; the other viewers, by name."""
    assert agent.id is not None
    presence.touch(ticket_id, agent.id, agent.name)
    return [v for v in presence.viewers(ticket_id) if v.agent_id != agent.id]
