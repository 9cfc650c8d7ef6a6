"""API tokens over JSON: list, create and revoke your own; admins do it for other agents."""

from __future__ import annotations

from fastapi import APIRouter, Response

from closeloop.accounts import management
from closeloop.accounts.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenRead
from closeloop.api.deps import CurrentPrincipal, Uow, Via

router = APIRouter(prefix="/api-tokens", tags=["api tokens"])


@router.get("", response_model=list[ApiTokenRead])
def list_tokens(
    uow: Uow, actor: CurrentPrincipal, agent_id: int | None = None
) -> list[ApiTokenRead]:
    """Your tokens that are not revoked (admins: ``?agent_id=`` for another agent's)."""
    tokens = management.list_api_tokens(uow, actor=actor, agent_id=agent_id)
    return [ApiTokenRead.of(token) for token in tokens]


@router.post("", status_code=201, response_model=ApiTokenCreated)
def create_token(
    data: ApiTokenCreate, response: Response, uow: Uow, actor: CurrentPrincipal, via: Via
) -> ApiTokenCreated:
    """Create a token for yourself, or (admins) for the agent with ``email``. The secret is in
    this answer only. No ``Idempotency-Key`` here: a replay would have to store the secret."""
    token, secret = management.issue_api_token(
        uow, actor=actor, via=via, name=data.name, expires_at=data.expires_at, email=data.email
    )
    uow.commit()
    response.headers["Cache-Control"] = "no-store"
    return ApiTokenCreated(**ApiTokenRead.of(token).model_dump(), token=secret)


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    management.revoke_api_token(uow, token_id=token_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
