"""Skills over JSON: everyone on staff reads them, admins change them."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from closeloop.accounts import management
from closeloop.accounts.schemas import SkillCreate, SkillRead, SkillUpdate
from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via

router = APIRouter(prefix="/skills", tags=["skills"])


@router.get("", response_model=list[SkillRead])
def list_skills(uow: Uow, actor: CurrentPrincipal) -> list[SkillRead]:
    return [SkillRead.of(skill) for skill in management.list_skills(uow, actor=actor)]


@router.post("", status_code=201, response_model=SkillRead)
def create_skill(
    data: SkillCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    return once.respond(
        data,
        lambda: SkillRead.of(
            management.create_skill(uow, **data.model_dump(), actor=actor, via=via)
        ),
    )


@router.get("/{skill_id}", response_model=SkillRead)
def get_skill(skill_id: int, uow: Uow, actor: CurrentPrincipal) -> SkillRead:
    return SkillRead.of(management.get_skill(uow, skill_id=skill_id, actor=actor))


@router.patch("/{skill_id}", response_model=SkillRead)
def update_skill(
    skill_id: int, data: SkillUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> SkillRead:
    skill = management.update_skill(uow, skill_id=skill_id, changes=data, actor=actor, via=via)
    uow.commit()
    return SkillRead.of(skill)


@router.delete("/{skill_id}", status_code=204)
def delete_skill(skill_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    """Delete a skill and every agent's level in it (admins)."""
    management.delete_skill(uow, skill_id=skill_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
