"""Customers over JSON: agents find, create and change them; a customer reads and changes
their own profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from closeloop.accounts import management
from closeloop.accounts.schemas import (
    CustomerCreate,
    CustomerMerge,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    IdentityCreate,
    IdentityRead,
)
from closeloop.api.deps import CurrentPrincipal, IdempotentPost, Uow, Via
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(prefix="/customers", tags=["customers"])

IdentityQuery = Annotated[str | None, Query(max_length=254)]


@router.get("", response_model=CustomerPage)
def search_customers(
    uow: Uow,
    actor: CurrentPrincipal,
    q: Annotated[
        str, Query(max_length=200, description="Start of a name or email, or any identity")
    ] = "",
    email: IdentityQuery = None,
    phone: IdentityQuery = None,
    wechat_openid: IdentityQuery = None,
    external_id: IdentityQuery = None,
    company_id: int | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> CustomerPage:
    """Customers newest first (agents). A customer is found by any of its identities, in any
    spelling: ``?phone=138 0013 8000`` finds ``+8613800138000``."""
    page = management.search_customers(
        uow,
        text=q,
        limit=limit,
        cursor=cursor,
        actor=actor,
        email=email,
        phone=phone,
        wechat_openid=wechat_openid,
        external_id=external_id,
        company_id=company_id,
    )
    items = management.present_customers(uow, page.items, actor=actor)
    return CustomerPage(items=items, next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=CustomerRead)
def create_customer(
    data: CustomerCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    def produce() -> CustomerRead:
        customer = management.create_customer(uow, **data.model_dump(), actor=actor, via=via)
        return management.present_customers(uow, [customer], actor=actor)[0]

    return once.respond(data, produce)


@router.get("/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: int, uow: Uow, actor: CurrentPrincipal) -> CustomerRead:
    customer = management.get_customer(uow, customer_id=customer_id, actor=actor)
    return management.present_customers(uow, [customer], actor=actor)[0]


@router.patch("/{customer_id}", response_model=CustomerRead)
def update_customer(
    customer_id: int, data: CustomerUpdate, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CustomerRead:
    """Change a customer (agents), or your own name and locale (customers)."""
    customer = management.update_customer(
        uow, customer_id=customer_id, changes=data, actor=actor, via=via
    )
    uow.commit()
    return management.present_customers(uow, [customer], actor=actor)[0]


@router.post("/{customer_id}/merge", response_model=CustomerRead)
def merge_customer(
    customer_id: int, data: CustomerMerge, uow: Uow, actor: CurrentPrincipal, via: Via
) -> CustomerRead:
    """Merge this customer into ``into_customer_id`` (agents): tickets, followed tickets and
    identities move to the survivor, which is returned; this one stays, marked merged."""
    survivor = management.merge_customers(
        uow, customer_id=customer_id, into_customer_id=data.into_customer_id, actor=actor, via=via
    )
    uow.commit()
    return management.present_customers(uow, [survivor], actor=actor)[0]


@router.get("/{customer_id}/identities", response_model=list[IdentityRead])
def list_identities(customer_id: int, uow: Uow, actor: CurrentPrincipal) -> list[IdentityRead]:
    """The customer's emails, phone numbers, WeChat openids and external ids, oldest first."""
    identities = management.list_customer_identities(uow, customer_id=customer_id, actor=actor)
    return [IdentityRead.of(identity) for identity in identities]


@router.post("/{customer_id}/identities", status_code=201, response_model=IdentityRead)
def add_identity(
    customer_id: int,
    data: IdentityCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    once: IdempotentPost,
) -> JSONResponse:
    """Recognise the customer by one more email, phone, WeChat openid or external id."""
    return once.respond(
        data,
        lambda: IdentityRead.of(
            management.add_customer_identity(
                uow, customer_id=customer_id, **data.model_dump(), actor=actor, via=via
            )
        ),
    )


@router.delete("/{customer_id}/identities/{identity_id}", status_code=204)
def remove_identity(
    customer_id: int, identity_id: int, uow: Uow, actor: CurrentPrincipal, via: Via
) -> Response:
    """Forget one identity; the last one cannot be removed."""
    management.remove_customer_identity(
        uow, customer_id=customer_id, identity_id=identity_id, actor=actor, via=via
    )
    uow.commit()
    return Response(status_code=204)
