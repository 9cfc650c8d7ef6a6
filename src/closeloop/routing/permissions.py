"""The single place that decides who may change and see what in routing.

- Rules and routing settings: administrators change them; every agent reads them (and may try
  a dry run), so anyone can see why a ticket went where it went.
- A team's strategy: its lead or an administrator.
- Availability: an agent sets their own status; a lead of one of the agent's teams or an
  administrator sets anything (status, capacity, maximum, shifts).
- Queues: members of a team see its queues; supervisors and administrators see all. The triage
  queue is for supervisors, administrators and members of a triage team.
- Pull mode: agents only.
"""

from __future__ import annotations

from collections.abc import Collection

from closeloop.accounts.domain import Principal

# What an agent may change on their own availability.
SELF_AVAILABILITY_FIELDS = frozenset({"status"})


def can_read_rules(principal: Principal) -> bool:
    return principal.is_agent or principal.is_admin


def can_manage_rules(principal: Principal) -> bool:
    return principal.is_admin


def can_set_team_routing(principal: Principal, team_id: int) -> bool:
    return principal.is_admin or (principal.is_agent and team_id in principal.led_team_ids)


def can_read_team(principal: Principal, team_id: int) -> bool:
    return principal.sees_all_tickets or (principal.is_agent and team_id in principal.team_ids)


def can_set_availability(
    principal: Principal, *, agent_id: int, agent_team_ids: Collection[int], fields: Collection[str]
) -> bool:
    if principal.is_admin:
        return True
    if not principal.is_agent:
        return False
    if principal.led_team_ids & set(agent_team_ids):
        return True
    return principal.id == agent_id and set(fields) <= SELF_AVAILABILITY_FIELDS


def can_read_availability(principal: Principal) -> bool:
    return principal.is_agent or principal.is_admin


def can_read_triage(principal: Principal, triage_team_ids: Collection[int]) -> bool:
    return principal.sees_all_tickets or bool(principal.team_ids & set(triage_team_ids))


def can_pull(principal: Principal) -> bool:
    return principal.is_agent
