"""Companies over JSON: agents read, create and change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from closeloop.accounts import management
from closeloop.accounts.schemas import CompanyCreate, CompanyPage, CompanyRead, CompanyUpdate
from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(prefix="/companies", tags=["companies"])


@router.get("", response_model=CompanyPage)
def list_companies(
    uow: Uow,
    actor: CurrentPrincipal,
    q: Annotated[str, Query(max_length=200, description="Start of a name or domain")] = "",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> CompanyPage:
    """Companies by name; pass ``next_cursor`` back as ``cursor`` for the next page."""
    page = management.list_companies(uow, actor=actor, text=q, cursor=cursor, limit=limit)
    return CompanyPage(items=[CompanyRead.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=CompanyRead)
def create_company(
    data: CompanyCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    return once.respond(
        data,
        lambda: CompanyRead.of(
            management.create_company(uow, **data.model_dump(), actor=actor, via=via)
        ),
    )


@router.get("/{company_id}", response_model=CompanyRead)
def get_company(company_id: int, uow: Uow, actor: CurrentPrincipal) -> CompanyRead:
    return CompanyRead.of(management.get_company(uow, company_id=company_id, actor=actor))


@router.patch("/{company_id}", response_model=CompanyRead)
def update_company(
    company_id: int, data: CompanyUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CompanyRead:
    company = management.update_company(
        uow, company_id=company_id, changes=data, actor=actor, via=via
    )
    uow.commit()
    return CompanyRead.of(company)


@router.delete("/{company_id}", status_code=204)
def delete_company(company_id: int, uow: Uow, actor: CurrentPrincipal, via: Via) -> Response:
    """Delete a company no customer belongs to any more."""
    management.delete_company(uow, company_id=company_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
