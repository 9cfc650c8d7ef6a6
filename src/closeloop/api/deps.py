"""Dependencies of the JSON API: the unit of work, the caller, how they came in."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.accounts.errors import AuthenticationRequired, CsrfFailed
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.idempotency import service as idempotency
from closeloop.kit.errors import PermissionDenied, ValidationFailed

SESSION_COOKIE = "closeloop_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no I/O are async: FastAPI runs sync ones in the thread pool, one hop each,
# which costs more than the work itself.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work per request; the handler commits, anything uncommitted is rolled back.

    Safe methods get a read-only unit of work, which on SQLite never waits for the write lock.
    """
    read_only = request.method in _SAFE_METHODS
    state = request.app.state
    uow = UnitOfWork(
        state.read_session_factory if read_only else state.session_factory,
        bus=state.bus,
        clock=state.clock,
        read_only=read_only,
    )
    with uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def current_principal(request: Request, uow: Uow) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _sep, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        principal = accounts.principal_for_token(uow, credentials.strip())
        if principal is None:
            raise AuthenticationRequired()
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.principal_for_login_session(uow, cookie)
        if found is None:
            raise AuthenticationRequired()
        principal, csrf = found
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise CsrfFailed()
        return principal
    raise AuthenticationRequired()


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def require_agent(principal: CurrentPrincipal) -> Principal:
    if not (principal.is_agent or principal.is_admin):
        raise PermissionDenied()
    return principal


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise PermissionDenied()
    return principal


async def require_supervisor(principal: CurrentPrincipal) -> Principal:
    if not principal.sees_all_tickets:
        raise PermissionDenied()
    return principal


AgentPrincipal = Annotated[Principal, Depends(require_agent)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
SupervisorPrincipal = Annotated[Principal, Depends(require_supervisor)]


async def via(request: Request) -> str:
    """How a change came in, for the audit trail: ``api:PATCH /api/v1/tickets/{ticket_id}``."""
    route_path: str | None = getattr(request.scope.get("route"), "path", None)
    if route_path is None:
        return f"api:{request.method} {request.url.path}"
    # Routes of included routers know only their own part of the template: the rest of the
    # requested path is the (parameter-free) prefix they were mounted under.
    depth = route_path.count("/")
    prefix = "/".join(request.url.path.split("/")[: request.url.path.count("/") - depth + 1])
    return f"api:{request.method} {prefix}{route_path}"


Via = Annotated[str, Depends(via)]


def expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """The version from the body, or from ``If-Match: "3"`` / ``W/"3"``."""
    if body_version is not None:
        return body_version
    if not if_match:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ValidationFailed(
            errors=[
                {
                    "field": "If-Match",
                    "code": "invalid",
                    "message": "If-Match must be a version number.",
                }
            ]
        )
    return int(raw)


IfMatch = Annotated[str | None, Header(alias="If-Match")]


class Idempotent:
    """Runs a POST once per ``Idempotency-Key`` and replays its first answer afterwards."""

    def __init__(self, request: Request, uow: UnitOfWork, principal: Principal, key: str | None):
        self._request = request
        self._uow = uow
        self._principal = principal
        self._key = key.strip() if key else None

    def respond(
        self,
        fingerprint_of: BaseModel | bytes,
        produce: Callable[[], BaseModel],
        *,
        status_code: int = 201,
    ) -> JSONResponse:
        method, path = self._request.method, self._request.url.path
        if self._key is None:
            body = produce().model_dump(mode="json")
            self._uow.commit()
            return JSONResponse(body, status_code=status_code)
        idempotency.validate_key(self._key)
        payload = (
            fingerprint_of
            if isinstance(fingerprint_of, bytes)
            else fingerprint_of.model_dump_json(exclude_unset=False).encode()
        )
        fingerprint = idempotency.request_fingerprint(method, path, payload)
        stored = idempotency.replay(
            self._uow, principal_key=self._principal.key, key=self._key, fingerprint=fingerprint
        )
        if stored is not None:
            return _replayed(stored)
        answer: Any = produce().model_dump(mode="json")
        idempotency.remember(
            self._uow,
            principal_key=self._principal.key,
            key=self._key,
            method=method,
            path=path,
            fingerprint=fingerprint,
            response=idempotency.StoredResponse(status_code=status_code, body=answer),
        )
        try:
            self._uow.commit()
        except IntegrityError:
            # A concurrent request with the same key won: give its answer, not a second effect.
            self._uow.rollback()
            stored = idempotency.replay(
                self._uow, principal_key=self._principal.key, key=self._key, fingerprint=fingerprint
            )
            if stored is None:
                raise
            return _replayed(stored)
        return JSONResponse(answer, status_code=status_code)


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


async def idempotent(
    request: Request,
    uow: Uow,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Idempotent:
    return Idempotent(request, uow, principal, idempotency_key)


IdempotentPost = Annotated[Idempotent, Depends(idempotent)]
