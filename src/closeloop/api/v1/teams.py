"""Teams over JSON: everyone on staff reads them, admins change them and their members."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from closeloop.accounts import management
from closeloop.accounts.schemas import TeamCreate, TeamRead, TeamUpdate
from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("", response_model=list[TeamRead])
def list_teams(uow: Uow, actor: CurrentPrincipal, is_active: bool | None = None) -> list[TeamRead]:
    return management.present_teams(
        uow, management.list_teams(uow, actor=actor, is_active=is_active)
    )


@router.post("", status_code=201, response_model=TeamRead)
def create_team(
    data: TeamCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    """Create a team (admins); its lead becomes a member."""

    def produce() -> TeamRead:
        team = management.create_team(uow, **data.model_dump(), actor=actor, via=via)
        return management.present_teams(uow, [team])[0]

    return once.respond(data, produce)


@router.get("/{team_id}", response_model=TeamRead)
def get_team(team_id: int, uow: Uow, actor: CurrentPrincipal) -> TeamRead:
    team = management.get_team(uow, team_id=team_id, actor=actor)
    return management.present_teams(uow, [team])[0]


@router.patch("/{team_id}", response_model=TeamRead)
def update_team(
    team_id: int, data: TeamUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> TeamRead:
    """Change a team (admins). A new lead becomes a member; ``lead_id: null`` clears it."""
    team = management.update_team(uow, team_id=team_id, changes=data, actor=actor, via=via)
    uow.commit()
    return management.present_teams(uow, [team])[0]


@router.delete("/{team_id}", status_code=204)
def deactivate_team(team_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    """Retire a team (admins). It is deactivated, not erased: its tickets and history stay,
    and ``PATCH {"is_active": true}`` brings it back."""
    management.deactivate_team(uow, team_id=team_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)


@router.put("/{team_id}/members/{agent_id}", response_model=TeamRead)
def add_member(
    team_id: int, agent_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> TeamRead:
    """Make the agent a member (admins); doing it again changes nothing."""
    management.add_team_member(uow, team_id=team_id, agent_id=agent_id, actor=actor, via=via)
    uow.commit()
    return get_team(team_id, uow, actor)


@router.delete("/{team_id}/members/{agent_id}", status_code=204)
def remove_member(
    team_id: int, agent_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    """Take the agent out of the team (admins); the lead stays until another is chosen."""
    management.remove_team_member(uow, team_id=team_id, agent_id=agent_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
