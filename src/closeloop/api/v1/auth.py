"""Signing in for pages (cookie sessions) and asking who you are."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import PrincipalKind, Role
from closeloop.api.deps import SESSION_COOKIE, AppSettings, CurrentPrincipal, Uow

router = APIRouter(prefix="/auth", tags=["auth"])


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    remember: bool = False


class SessionRead(BaseModel):
    csrf_token: str
    principal: PrincipalRead


class PrincipalRead(BaseModel):
    kind: PrincipalKind
    id: int | None
    name: str
    role: Role | None
    team_ids: list[int]
    locale: str
    time_zone: str


@router.get("/me", response_model=PrincipalRead)
def who_am_i(actor: CurrentPrincipal) -> PrincipalRead:
    return PrincipalRead(
        kind=actor.kind,
        id=actor.id,
        name=actor.name,
        role=actor.role,
        team_ids=sorted(actor.team_ids),
        locale=actor.locale,
        time_zone=actor.time_zone,
    )


@router.post("/session", response_model=SessionRead)
def sign_in(
    data: SessionCreate, request: Request, response: Response, uow: Uow, settings: AppSettings
) -> SessionRead:
    """Sign in with email and password; sets an HttpOnly session cookie and returns the CSRF
    token that unsafe requests made with the cookie must echo in ``X-CSRF-Token``."""
    principal = accounts.authenticate_password(uow, email=data.email, password=data.password)
    lifetime = (
        timedelta(days=settings.session_days)
        if data.remember
        else timedelta(hours=settings.session_hours)
    )
    cookie, csrf = accounts.start_login_session(uow, principal=principal, lifetime=lifetime)
    uow.commit()
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=int(lifetime.total_seconds()) if data.remember else None,
    )
    return SessionRead(csrf_token=csrf, principal=who_am_i(principal))


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response, uow: Uow) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_login_session(uow, cookie)
        uow.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response
