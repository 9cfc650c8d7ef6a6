"""Pydantic shapes of WeChat accounts on the wire (secrets are write-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, SecretStr, StringConstraints, field_validator

from closeloop.channels.wechat.domain import EncryptionMode
from closeloop.channels.wechat.messages import is_valid_aes_key
from closeloop.channels.wechat.models import WeChatAccount
from closeloop.kit.schemas import PartialUpdate, Strict

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
AppId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^wx[0-9a-zA-Z]{6,30}$", max_length=32)
]
AppSecret = Annotated[SecretStr, Field(min_length=8, max_length=128)]
# The server token (令牌): 3 to 32 letters and digits, as the admin console requires.
Token = Annotated[SecretStr, Field(min_length=3, max_length=32)]
AesKey = Annotated[SecretStr, Field(min_length=43, max_length=43)]


def _aes_key(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not is_valid_aes_key(value.get_secret_value()):
        raise ValueError("the EncodingAESKey is 43 characters of base64 (A-Z, a-z, 0-9, +, /)")
    return value


def _token(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not value.get_secret_value().isalnum():
        raise ValueError("the token has only letters and digits")
    return value


class WeChatAccountCreate(Strict):
    name: Name
    app_id: AppId = Field(description="The account's AppID (开发者ID), wx…")
    app_secret: AppSecret = Field(description="AppSecret (开发者密码). Write-only.")
    token: Token = Field(description="Token (令牌) of the server configuration. Write-only.")
    encoding_aes_key: AesKey | None = Field(
        None,
        description="EncodingAESKey (消息加解密密钥), for compatible and safe mode; write-only.",
    )
    encryption_mode: EncryptionMode = EncryptionMode.safe
    team_id: int | None = Field(None, description="Team of new tickets; null: routing decides.")
    is_active: bool = True

    _check_aes_key = field_validator("encoding_aes_key")(_aes_key)
    _check_token = field_validator("token")(_token)


class WeChatAccountUpdate(PartialUpdate):
    """Only the fields present change; ``encoding_aes_key`` and ``team_id`` may be null."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"encoding_aes_key", "team_id"})

    name: Name | None = None
    app_secret: AppSecret | None = None
    token: Token | None = None
    encoding_aes_key: AesKey | None = None
    encryption_mode: EncryptionMode | None = None
    team_id: int | None = None
    is_active: bool | None = None

    _check_aes_key = field_validator("encoding_aes_key")(_aes_key)
    _check_token = field_validator("token")(_token)


class WeChatAccountRead(BaseModel):
    id: int
    name: str
    app_id: str
    encryption_mode: EncryptionMode
    has_encoding_aes_key: bool
    team_id: int | None
    is_active: bool
    callback_path: str = Field(
        description="Path of the server URL (服务器地址) to enter in the WeChat admin console."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: WeChatAccount) -> WeChatAccountRead:
        return cls(
            id=account.id,
            name=account.name,
            app_id=account.app_id,
            encryption_mode=EncryptionMode(account.encryption_mode),
            has_encoding_aes_key=account.encoding_aes_key_encrypted is not None,
            team_id=account.team_id,
            is_active=account.is_active,
            callback_path=f"/api/v1/channels/wechat/{account.id}/callback",
            created_at=account.created_at,
            updated_at=account.updated_at,
        )
