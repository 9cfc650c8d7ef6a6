"""Errors of the WeChat channel, each with a stable code."""

from __future__ import annotations

from closeloop.kit.errors import Conflict, DomainError, NotFound, ValidationFailed
from closeloop.kit.i18n import _


class WeChatAccountNotFound(NotFound):
    code = "wechat.account_not_found"
    message = _("WeChat account {account_id} does not exist.")


class WeChatAppIdTaken(Conflict):
    code = "wechat.app_id_taken"
    title = _("App ID already used")
    message = _("Another WeChat account already uses the app ID {app_id}.")


class WeChatAesKeyRequired(ValidationFailed):
    code = "wechat.aes_key_required"
    message = _("Compatible and safe mode need the account's EncodingAESKey.")

    def __init__(self) -> None:
        super().__init__(
            errors=[
                {
                    "field": "encoding_aes_key",
                    "code": "required",
                    "message": "Compatible and safe mode need the EncodingAESKey.",
                }
            ]
        )


class WeChatSignatureInvalid(DomainError):
    """The push is not signed with the account's token, or its timestamp is stale."""

    code = "wechat.signature_invalid"
    http_status = 403
    title = _("Invalid signature")
    message = _("The request is not signed by WeChat for this account.")


class WeChatPushMalformed(DomainError):
    code = "wechat.push_malformed"
    http_status = 400
    title = _("Malformed push")
    message = _("The request is not a WeChat message this account can read.")


class WeChatApiFailure(Exception):
    """The WeChat API answered with an error code, or could not be reached (not shown to users:
    jobs record it, and agents see a note when it means the reply was not delivered)."""

    def __init__(self, reason: str, *, errcode: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errcode = errcode
        # A token fetched on the way to the failure, still worth caching (client.with_token).
        self.fresh_token: object | None = None
