"""WeChat official accounts over HTTP: WeChat's callback, and the administrators' accounts.

The callback is public (WeChat cannot sign in) but every request must carry the account's
signature: a bad or stale one answers 403 problem+json and echoes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse

from closeloop.api.deps import AdminPrincipal, AppSettings, Uow, Via
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.wechat import service as wechat
from closeloop.channels.wechat.messages import success_reply
from closeloop.channels.wechat.schemas import (
    WeChatAccountCreate,
    WeChatAccountRead,
    WeChatAccountUpdate,
)

router = APIRouter(tags=["wechat"])
CALLBACK = "/channels/wechat/{account_id}/callback"
ACCOUNTS = "/channels/wechat/accounts"


async def raw_body(request: Request) -> bytes:
    return await request.body()


def push_query(
    signature: str = "",
    timestamp: str = "",
    nonce: str = "",
    msg_signature: str = "",
    encrypt_type: str = "",
) -> wechat.PushQuery:
    return wechat.PushQuery(
        signature=signature,
        timestamp=timestamp,
        nonce=nonce,
        msg_signature=msg_signature,
        encrypt_type=encrypt_type,
    )


SignedQuery = Annotated[wechat.PushQuery, Depends(push_query)]
Body = Annotated[bytes, Depends(raw_body)]


@router.get(CALLBACK, response_class=PlainTextResponse)
def verify_server_url(
    account_id: int,
    query: SignedQuery,
    uow: Uow,
    settings: AppSettings,
    echostr: Annotated[str, Query(max_length=200)] = "",
) -> PlainTextResponse:
    """Server URL verification (服务器配置): answers ``echostr`` when the signature is right."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    echo = wechat.verify_url(
        uow, account_id=account_id, query=query, echostr=echostr, cipher=cipher
    )
    return PlainTextResponse(echo)


@router.post(CALLBACK, response_class=PlainTextResponse)
def receive_push(
    account_id: int, query: SignedQuery, body: Body, uow: Uow, settings: AppSettings
) -> PlainTextResponse:
    """A message or event pushed by WeChat; answers ``success`` (media is fetched later)."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    wechat.receive_push(uow, account_id=account_id, query=query, body=body, cipher=cipher)
    uow.commit()
    return PlainTextResponse(success_reply())


@router.get(ACCOUNTS, response_model=list[WeChatAccountRead])
def list_accounts(uow: Uow, actor: AdminPrincipal) -> list[WeChatAccountRead]:
    """Official accounts (administrators). Secrets are never shown."""
    return [WeChatAccountRead.of(a) for a in wechat.list_accounts(uow, actor=actor)]


@router.post(ACCOUNTS, status_code=201, response_model=WeChatAccountRead)
def create_account(
    data: WeChatAccountCreate, uow: Uow, actor: AdminPrincipal, via: Via, settings: AppSettings
) -> WeChatAccountRead:
    """Connect an official account; then enter ``callback_path`` in its admin console."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    account = wechat.create_account(uow, data=data, cipher=cipher, actor=actor, via=via)
    uow.commit()
    return WeChatAccountRead.of(account)


@router.get(ACCOUNTS + "/{account_id}", response_model=WeChatAccountRead)
def get_account(account_id: int, uow: Uow, actor: AdminPrincipal) -> WeChatAccountRead:
    return WeChatAccountRead.of(wechat.get_account(uow, account_id=account_id, actor=actor))


@router.patch(ACCOUNTS + "/{account_id}", response_model=WeChatAccountRead)
def update_account(
    account_id: int,
    data: WeChatAccountUpdate,
    uow: Uow,
    actor: AdminPrincipal,
    via: Via,
    settings: AppSettings,
) -> WeChatAccountRead:
    """Change the fields sent; secrets are replaced, never shown."""
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    account = wechat.update_account(
        uow, account_id=account_id, data=data, cipher=cipher, actor=actor, via=via
    )
    uow.commit()
    return WeChatAccountRead.of(account)


@router.delete(ACCOUNTS + "/{account_id}", status_code=204)
def delete_account(account_id: int, uow: Uow, actor: AdminPrincipal, via: Via) -> Response:
    wechat.delete_account(uow, account_id=account_id, actor=actor, via=via)
    uow.commit()
    return Response(status_code=204)
