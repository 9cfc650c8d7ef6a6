"""Admin pages for the channels: email mailboxes (and each team's acknowledgement), WeChat
accounts, webhook sources, the CRM lookup, and the quarantine of inbound messages.

Secrets are write-only: a form field for a password, app secret, token or key is always
empty; left empty it keeps the stored value. Webhook signing secrets are shown once, in the
answer to the post that made them. Every change goes through the channel's service.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from closeloop.accounts.domain import Principal
from closeloop.channels import service as channel_service
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm import service as crm
from closeloop.channels.crm.client import LookupFailure, fetch
from closeloop.channels.crm.lookup import enrichment_of
from closeloop.channels.crm.schemas import (
    CrmSettingsRead,
    CrmSettingsUpdate,
    CrmTestLookup,
    CrmTestResult,
)
from closeloop.channels.email import mailboxes
from closeloop.channels.email.outbound import PLACEHOLDERS
from closeloop.channels.email.schemas import (
    ConnectionTestResult,
    EmailTemplateRead,
    EmailTemplateUpdate,
    MailboxCreate,
    MailboxRead,
    MailboxUpdate,
    TlsMode,
)
from closeloop.channels.schemas import InboundRead
from closeloop.channels.webhook import service as webhooks
from closeloop.channels.webhook.schemas import (
    SecretRotation,
    SourceCreate,
    SourceRead,
    SourceUpdate,
    WebhookChannel,
)
from closeloop.channels.wechat import service as wechat
from closeloop.channels.wechat.domain import EncryptionMode
from closeloop.channels.wechat.schemas import (
    WeChatAccountCreate,
    WeChatAccountRead,
    WeChatAccountUpdate,
)
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import _
from closeloop.kit.secret_box import SecretBox
from closeloop.tickets.attachment_store import CHUNK_SIZE
from closeloop.web.admin.common import (
    FORM_ERRORS,
    NO_STORE,
    FormValues,
    PageForm,
    area_context,
    form_errors,
    to_int,
    via,
)
from closeloop.web.admin.users import team_options
from closeloop.web.deps import CsrfChecked, PageAdmin, PageUow, render, see_other

router = APIRouter()

PATH = "/admin/channels"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _cipher(request: Request) -> SecretBox:
    return channel_cipher(_settings(request).secret_key.get_secret_value())


def _absolute(request: Request, path: str) -> str:
    base = str(_settings(request).public_base_url or request.base_url).rstrip("/")
    return base + path


@router.get(PATH, response_class=HTMLResponse)
def channels_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    quarantined = channel_service.list_quarantine(uow, actor=admin, limit=1)
    return render(
        request,
        "admin/channels/index.html",
        area_context(
            "channels",
            counts={
                "mailboxes": len(mailboxes.list_mailboxes(uow, actor=admin)),
                "wechat": len(wechat.list_accounts(uow, actor=admin)),
                "webhooks": len(webhooks.list_sources(uow, actor=admin)),
                "crm": crm.read_settings(uow, actor=admin).is_enabled,
                "quarantine": bool(quarantined.items),
            },
        ),
    )


# --- email mailboxes ----------------------------------------------------------------------

_MAILBOX_FIELDS = (
    "team_id",
    "name",
    "address",
    "imap_host",
    "imap_port",
    "tls_mode",
    "folder",
    "username",
)


def _mailboxes_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    teams = team_options(uow, admin)
    return render(
        request,
        "admin/channels/mailboxes.html",
        area_context(
            "channels",
            mailboxes=[MailboxRead.of(m) for m in mailboxes.list_mailboxes(uow, actor=admin)],
            teams=teams,
            team_names=dict(teams),
            tls_modes=[(m.value, m.value) for m in TlsMode],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


_NEW_MAILBOX = {"imap_port": "993", "tls_mode": TlsMode.ssl.value, "folder": "INBOX"}


@router.get(PATH + "/mailboxes", response_class=HTMLResponse)
def mailboxes_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    values = {**_NEW_MAILBOX, "is_active": True, "mark_seen": True}
    return _mailboxes_page(request, uow, admin, values=values, errors=[])


def _posted_mailbox(form: FormValues) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = form.values(*_MAILBOX_FIELDS)
    values["is_active"] = form.flag("is_active")
    values["mark_seen"] = form.flag("mark_seen")
    data: dict[str, Any] = {
        **values,
        "team_id": to_int(values["team_id"]),
        "imap_port": to_int(values["imap_port"] or "993"),
        "folder": values["folder"] or "INBOX",
        "tls_mode": values["tls_mode"] or TlsMode.ssl.value,
    }
    password = form.raw("password")
    if password:
        data["password"] = password
    return values, data


@router.post(PATH + "/mailboxes")
def create_mailbox(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values, data = _posted_mailbox(form)
    try:
        created = mailboxes.create_mailbox(
            uow,
            data=MailboxCreate.model_validate(data),
            cipher=_cipher(request),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        errors = form_errors(error, admin.locale, field="address")
        return _mailboxes_page(request, uow, admin, values=values, errors=errors, status_code=422)
    uow.commit()
    return see_other(request, f"{PATH}/mailboxes/{created.id}", flash=_("Mailbox added."))


def _mailbox_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    mailbox: MailboxRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    test: ConnectionTestResult | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/channels/mailbox.html",
        area_context(
            "channels",
            mailbox=mailbox,
            teams=team_options(uow, admin),
            tls_modes=[(m.value, m.value) for m in TlsMode],
            values=values,
            errors=errors,
            test=test,
        ),
        status_code=status_code,
    )


def _mailbox_values(mailbox: MailboxRead) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(getattr(mailbox, name)) for name in _MAILBOX_FIELDS}
    values["tls_mode"] = mailbox.tls_mode.value
    values["is_active"] = mailbox.is_active
    values["mark_seen"] = mailbox.mark_seen
    return values


def _load_mailbox(uow: UnitOfWork, admin: Principal, mailbox_id: int) -> MailboxRead:
    return MailboxRead.of(mailboxes.get_mailbox(uow, mailbox_id=mailbox_id, actor=admin))


@router.get(PATH + "/mailboxes/{mailbox_id:int}", response_class=HTMLResponse)
def edit_mailbox(request: Request, mailbox_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    mailbox = _load_mailbox(uow, admin, mailbox_id)
    return _mailbox_page(request, uow, admin, mailbox, values=_mailbox_values(mailbox), errors=[])


@router.post(PATH + "/mailboxes/{mailbox_id:int}")
def update_mailbox(
    request: Request,
    mailbox_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    mailbox = _load_mailbox(uow, admin, mailbox_id)
    values, data = _posted_mailbox(form)
    if form.flag("clear_password"):
        data["password"] = None
    try:
        mailboxes.update_mailbox(
            uow,
            mailbox_id=mailbox_id,
            data=MailboxUpdate.model_validate(data),
            cipher=_cipher(request),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _mailbox_page(
            request,
            uow,
            admin,
            mailbox,
            values=values,
            errors=form_errors(error, admin.locale, field="address"),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/mailboxes/{mailbox_id}", flash=_("Mailbox saved."))


@router.post(PATH + "/mailboxes/{mailbox_id:int}/test", response_class=HTMLResponse)
def check_mailbox_connection(
    request: Request, mailbox_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> HTMLResponse:
    """Sign in to the IMAP server and open the folder, read-only; changes nothing."""
    mailbox = _load_mailbox(uow, admin, mailbox_id)
    imap_settings = mailboxes.connection_settings(
        uow,
        mailbox_id=mailbox_id,
        cipher=_cipher(request),
        actor=admin,
        timeout=min(_settings(request).imap_timeout_seconds, 15.0),
    )
    uow.rollback()  # no transaction while the server answers
    result = mailboxes.test_connection(imap_settings)
    return _mailbox_page(
        request, uow, admin, mailbox, values=_mailbox_values(mailbox), errors=[], test=result
    )


@router.post(PATH + "/mailboxes/{mailbox_id:int}/delete")
def delete_mailbox(
    request: Request, mailbox_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    mailboxes.delete_mailbox(uow, mailbox_id=mailbox_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH + "/mailboxes", flash=_("Mailbox deleted."))


# --- a team's acknowledgement email -------------------------------------------------------

_TEMPLATE_FIELDS = (
    "sender_name",
    "acknowledgement_subject_zh",
    "acknowledgement_body_zh",
    "acknowledgement_subject_en",
    "acknowledgement_body_en",
)


def _template_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    team_id: int,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/channels/email_template.html",
        area_context(
            "channels",
            team_id=team_id,
            team_name=dict(team_options(uow, admin)).get(team_id, str(team_id)),
            placeholders=", ".join("{" + p + "}" for p in PLACEHOLDERS),
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


@router.get(PATH + "/email-templates/{team_id:int}", response_class=HTMLResponse)
def email_template(request: Request, team_id: int, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    row = mailboxes.get_template(uow, team_id=team_id, actor=admin)
    read = EmailTemplateRead.of(team_id, row, list(PLACEHOLDERS))
    values = {name: getattr(read, name) for name in _TEMPLATE_FIELDS}
    return _template_page(request, uow, admin, team_id, values=values, errors=[])


@router.post(PATH + "/email-templates/{team_id:int}")
def save_email_template(
    request: Request,
    team_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    values = {name: form.raw(name) for name in _TEMPLATE_FIELDS}
    try:
        data = EmailTemplateUpdate.model_validate(values)
        mailboxes.update_template(uow, team_id=team_id, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return _template_page(
            request,
            uow,
            admin,
            team_id,
            values=values,
            errors=form_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(
        request, f"{PATH}/email-templates/{team_id}", flash=_("Acknowledgement email saved.")
    )


# --- WeChat accounts ----------------------------------------------------------------------

_SECRETS = ("app_secret", "token", "encoding_aes_key")


def _wechat_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    teams = team_options(uow, admin)
    accounts = [WeChatAccountRead.of(a) for a in wechat.list_accounts(uow, actor=admin)]
    return render(
        request,
        "admin/channels/wechat.html",
        area_context(
            "channels",
            accounts=accounts,
            callback_urls={a.id: _absolute(request, a.callback_path) for a in accounts},
            teams=teams,
            team_names=dict(teams),
            modes=[(m.value, m.value) for m in EncryptionMode],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


@router.get(PATH + "/wechat", response_class=HTMLResponse)
def wechat_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    values = {"encryption_mode": EncryptionMode.safe.value, "is_active": True}
    return _wechat_page(request, uow, admin, values=values, errors=[])


def _posted_account(form: FormValues, *, creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    names = (
        ("name", "app_id", "encryption_mode", "team_id")
        if creating
        else (
            "name",
            "encryption_mode",
            "team_id",
        )
    )
    values: dict[str, Any] = form.values(*names)
    values["is_active"] = form.flag("is_active")
    data: dict[str, Any] = {
        **values,
        "team_id": to_int(values["team_id"]) if values["team_id"] else None,
    }
    for name in _SECRETS:
        secret = form.raw(name).strip()
        if secret:
            data[name] = secret
    return values, data


@router.post(PATH + "/wechat")
def create_wechat_account(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values, data = _posted_account(form, creating=True)
    try:
        created = wechat.create_account(
            uow,
            data=WeChatAccountCreate.model_validate(data),
            cipher=_cipher(request),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _wechat_page(
            request,
            uow,
            admin,
            values=values,
            errors=form_errors(error, admin.locale, field="app_id"),
            status_code=422,
        )
    uow.commit()
    return see_other(
        request,
        f"{PATH}/wechat/{created.id}",
        flash=_("WeChat account added. Enter the server URL in the WeChat admin console."),
    )


def _account_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    account: WeChatAccountRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/channels/wechat_account.html",
        area_context(
            "channels",
            account=account,
            callback_url=_absolute(request, account.callback_path),
            teams=team_options(uow, admin),
            modes=[(m.value, m.value) for m in EncryptionMode],
            values=values,
            errors=errors,
        ),
        status_code=status_code,
    )


def _load_account(uow: UnitOfWork, admin: Principal, account_id: int) -> WeChatAccountRead:
    return WeChatAccountRead.of(wechat.get_account(uow, account_id=account_id, actor=admin))


@router.get(PATH + "/wechat/{account_id:int}", response_class=HTMLResponse)
def edit_wechat_account(
    request: Request, account_id: int, uow: PageUow, admin: PageAdmin
) -> HTMLResponse:
    account = _load_account(uow, admin, account_id)
    values = {
        "name": account.name,
        "encryption_mode": account.encryption_mode.value,
        "team_id": str(account.team_id or ""),
        "is_active": account.is_active,
    }
    return _account_page(request, uow, admin, account, values=values, errors=[])


@router.post(PATH + "/wechat/{account_id:int}")
def update_wechat_account(
    request: Request,
    account_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    account = _load_account(uow, admin, account_id)
    values, data = _posted_account(form, creating=False)
    if form.flag("clear_encoding_aes_key"):
        data["encoding_aes_key"] = None
    try:
        wechat.update_account(
            uow,
            account_id=account_id,
            data=WeChatAccountUpdate.model_validate(data),
            cipher=_cipher(request),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _account_page(
            request,
            uow,
            admin,
            account,
            values=values,
            errors=form_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/wechat/{account_id}", flash=_("WeChat account saved."))


@router.post(PATH + "/wechat/{account_id:int}/delete")
def delete_wechat_account(
    request: Request, account_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    wechat.delete_account(uow, account_id=account_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH + "/wechat", flash=_("WeChat account deleted."))


# --- webhook sources ----------------------------------------------------------------------


def _webhooks_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    secret: tuple[SourceRead, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    teams = team_options(uow, admin)
    sources = [SourceRead.of(s) for s in webhooks.list_sources(uow, actor=admin)]
    return render(
        request,
        "admin/channels/webhooks.html",
        area_context(
            "channels",
            sources=sources,
            urls={s.id: _absolute(request, s.url_path) for s in sources},
            teams=teams,
            team_names=dict(teams),
            channels=[(c.value, c.value) for c in WebhookChannel],
            values=values,
            errors=errors,
            secret=secret,
        ),
        status_code=status_code,
        headers=headers,
    )


@router.get(PATH + "/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    values = {
        "channel": WebhookChannel.api.value,
        "replay_window_seconds": "300",
        "is_active": True,
    }
    return _webhooks_page(request, uow, admin, values=values, errors=[])


@router.post(PATH + "/webhooks")
def create_webhook_source(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values: dict[str, Any] = form.values(
        "name", "slug", "channel", "team_id", "replay_window_seconds"
    )
    values["is_active"] = form.flag("is_active")
    try:
        data = SourceCreate.model_validate(
            {
                **values,
                "channel": values["channel"] or WebhookChannel.api.value,
                "team_id": to_int(values["team_id"]) if values["team_id"] else None,
                "replay_window_seconds": to_int(values["replay_window_seconds"] or "300"),
            }
        )
        source, secret = webhooks.create_source(
            uow, data=data, cipher=_cipher(request), actor=admin, via=via(request)
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _webhooks_page(
            request,
            uow,
            admin,
            values=values,
            errors=form_errors(error, admin.locale, field="slug"),
            status_code=422,
        )
    uow.commit()
    # The secret is in this answer only (it is stored encrypted and never shown again).
    return _webhooks_page(
        request,
        uow,
        admin,
        values={
            "channel": WebhookChannel.api.value,
            "replay_window_seconds": "300",
            "is_active": True,
        },
        errors=[],
        secret=(SourceRead.of(source), secret),
        status_code=201,
        headers=NO_STORE,
    )


def _source_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    source: SourceRead,
    *,
    values: dict[str, Any],
    errors: list[dict[str, str]],
    secret: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/channels/webhook_source.html",
        area_context(
            "channels",
            source=source,
            url=_absolute(request, source.url_path),
            teams=team_options(uow, admin),
            channels=[(c.value, c.value) for c in WebhookChannel],
            values=values,
            errors=errors,
            secret=secret,
        ),
        status_code=status_code,
        headers=headers,
    )


def _source_values(source: SourceRead) -> dict[str, Any]:
    return {
        "name": source.name,
        "channel": source.channel.value,
        "team_id": str(source.team_id or ""),
        "replay_window_seconds": str(source.replay_window_seconds),
        "is_active": source.is_active,
    }


@router.get(PATH + "/webhooks/{source_id:int}", response_class=HTMLResponse)
def edit_webhook_source(
    request: Request, source_id: int, uow: PageUow, admin: PageAdmin
) -> HTMLResponse:
    source = SourceRead.of(webhooks.get_source(uow, source_id=source_id, actor=admin))
    return _source_page(request, uow, admin, source, values=_source_values(source), errors=[])


@router.post(PATH + "/webhooks/{source_id:int}")
def update_webhook_source(
    request: Request,
    source_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    source = SourceRead.of(webhooks.get_source(uow, source_id=source_id, actor=admin))
    values: dict[str, Any] = form.values("name", "channel", "team_id", "replay_window_seconds")
    values["is_active"] = form.flag("is_active")
    try:
        data = SourceUpdate.model_validate(
            {
                **values,
                "team_id": to_int(values["team_id"]) if values["team_id"] else None,
                "replay_window_seconds": to_int(values["replay_window_seconds"] or "300"),
            }
        )
        webhooks.update_source(uow, source_id=source_id, data=data, actor=admin, via=via(request))
    except FORM_ERRORS as error:
        uow.rollback()
        return _source_page(
            request,
            uow,
            admin,
            source,
            values=values,
            errors=form_errors(error, admin.locale),
            status_code=422,
        )
    uow.commit()
    return see_other(request, f"{PATH}/webhooks/{source_id}", flash=_("Webhook source saved."))


@router.post(PATH + "/webhooks/{source_id:int}/rotate")
def rotate_webhook_secret(
    request: Request,
    source_id: int,
    uow: PageUow,
    admin: PageAdmin,
    _csrf: CsrfChecked,
    form: PageForm,
) -> Response:
    keep = form.get("keep_previous_seconds")
    data = SecretRotation.model_validate({"keep_previous_seconds": to_int(keep)} if keep else {})
    rotated, secret = webhooks.rotate_secret(
        uow,
        source_id=source_id,
        keep_previous_seconds=data.keep_previous_seconds,
        cipher=_cipher(request),
        actor=admin,
        via=via(request),
    )
    uow.commit()
    source = SourceRead.of(rotated)
    return _source_page(
        request,
        uow,
        admin,
        source,
        values=_source_values(source),
        errors=[],
        secret=secret,
        headers=NO_STORE,
    )


@router.post(PATH + "/webhooks/{source_id:int}/delete")
def delete_webhook_source(
    request: Request, source_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    webhooks.delete_source(uow, source_id=source_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH + "/webhooks", flash=_("Webhook source deleted."))


# --- CRM lookup ---------------------------------------------------------------------------


def _crm_page(
    request: Request,
    uow: UnitOfWork,
    admin: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    lookup: dict[str, Any] | None = None,
    result: CrmTestResult | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    current = CrmSettingsRead.of(crm.read_settings(uow, actor=admin))
    if values is None:
        values = {
            "is_enabled": current.is_enabled,
            "url_template": current.url_template,
            "timeout_seconds": f"{current.timeout_seconds:g}",
            "tier_path": current.tier_path,
            "tier_values": "\n".join(f"{k}={v}" for k, v in current.tier_values.items()),
            "company_path": current.company_path,
        }
    return render(
        request,
        "admin/channels/crm.html",
        area_context(
            "channels",
            current=current,
            values=values,
            errors=errors or [],
            lookup=lookup or {},
            result=result,
        ),
        status_code=status_code,
    )


@router.get(PATH + "/crm", response_class=HTMLResponse)
def crm_page(request: Request, uow: PageUow, admin: PageAdmin) -> HTMLResponse:
    return _crm_page(request, uow, admin)


def _tier_values(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, _sep, value = line.partition("=")
            found[key.strip()] = value.strip()
        elif line.strip():
            found[line.strip()] = ""
    return found


@router.post(PATH + "/crm")
def save_crm(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> Response:
    values: dict[str, Any] = form.values(
        "url_template", "timeout_seconds", "tier_path", "tier_values", "company_path"
    )
    values["tier_values"] = form.raw("tier_values")
    values["is_enabled"] = form.flag("is_enabled")
    data: dict[str, Any] = {
        "is_enabled": values["is_enabled"],
        "url_template": values["url_template"],
        "timeout_seconds": values["timeout_seconds"] or "5",
        "tier_path": values["tier_path"],
        "tier_values": _tier_values(values["tier_values"]),
        "company_path": values["company_path"],
    }
    token = form.raw("token").strip()
    if token:
        data["token"] = token
    elif form.flag("clear_token"):
        data["token"] = None
    try:
        crm.update_settings(
            uow,
            data=CrmSettingsUpdate.model_validate(data),
            cipher=_cipher(request),
            actor=admin,
            via=via(request),
        )
    except FORM_ERRORS as error:
        uow.rollback()
        return _crm_page(
            request,
            uow,
            admin,
            values=values,
            errors=form_errors(error, admin.locale, field="url_template"),
            status_code=422,
        )
    uow.commit()
    return see_other(request, PATH + "/crm", flash=_("CRM lookup saved."))


@router.post(PATH + "/crm/test", response_class=HTMLResponse)
def try_crm_lookup(
    request: Request, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked, form: PageForm
) -> HTMLResponse:
    """Look one customer up with the saved settings and show the answer; changes nothing."""
    lookup = form.values("email", "phone", "external_id", "name")
    try:
        data = CrmTestLookup.model_validate({k: v for k, v in lookup.items() if v})
        plan = crm.trial_lookup_plan(uow, data=data, cipher=_cipher(request), actor=admin)
    except FORM_ERRORS as error:
        uow.rollback()
        errors = [{**e, "field": "lookup"} for e in form_errors(error, admin.locale)]
        return _crm_page(request, uow, admin, errors=errors, lookup=lookup, status_code=422)
    uow.rollback()  # no transaction while the CRM answers
    outcome = fetch(plan.request)
    if isinstance(outcome, LookupFailure):
        result = CrmTestResult(
            url=plan.request.url,
            status_code=None,
            found=False,
            tier=None,
            raw_tier=None,
            company=None,
            error=outcome.reason,
        )
    else:
        found = enrichment_of(
            outcome.document,
            tier_path=plan.tier_path,
            tier_values=plan.tier_values,
            company_path=plan.company_path,
        )
        result = CrmTestResult(
            url=plan.request.url,
            status_code=outcome.status_code,
            found=outcome.document is not None,
            tier=found.tier,
            raw_tier=found.raw_tier,
            company=found.company,
            error=None,
            answer=outcome.document,
        )
    return _crm_page(request, uow, admin, lookup=lookup, result=result)


# --- quarantine ---------------------------------------------------------------------------


@router.get(PATH + "/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request, uow: PageUow, admin: PageAdmin, cursor: str | None = None
) -> HTMLResponse:
    page = channel_service.list_quarantine(uow, actor=admin, cursor=cursor, limit=50)
    return render(
        request,
        "admin/channels/quarantine.html",
        area_context(
            "channels",
            items=[InboundRead.of(row, admin.locale) for row in page.items],
            next_cursor=page.next_cursor,
        ),
    )


@router.post(PATH + "/quarantine/{inbound_id:int}/release")
def release_quarantined(
    request: Request, inbound_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    """Take the message through the pipeline again; it may be quarantined again."""
    result = channel_service.release_quarantined(
        uow,
        inbound_id=inbound_id,
        actor=admin,
        via=via(request),
        settings=channel_service.IngestSettings.from_settings(_settings(request)),
    )
    uow.commit()
    taken = result.ticket_id is not None and result.outcome.value != "quarantined"
    message = (
        _("Released: the message was taken.")
        if taken
        else _("Released, but it was set aside again; see the reason.")
    )
    return see_other(request, PATH + "/quarantine", flash=message)


@router.post(PATH + "/quarantine/{inbound_id:int}/discard")
def discard_quarantined(
    request: Request, inbound_id: int, uow: PageUow, admin: PageAdmin, _csrf: CsrfChecked
) -> Response:
    channel_service.discard_quarantined(uow, inbound_id=inbound_id, actor=admin, via=via(request))
    uow.commit()
    return see_other(request, PATH + "/quarantine", flash=_("Message discarded."))


@router.get(PATH + "/quarantine/{inbound_id:int}/raw")
def raw_message(
    request: Request, inbound_id: int, uow: PageUow, admin: PageAdmin
) -> StreamingResponse:
    """The message exactly as it arrived, as a download (never rendered as a page)."""
    row, content = channel_service.open_raw_message(
        uow,
        inbound_id=inbound_id,
        actor=admin,
        settings=channel_service.IngestSettings.from_settings(_settings(request)),
    )
    headers = {
        "Content-Disposition": f'attachment; filename="inbound-{row.id}.eml"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    return StreamingResponse(_chunks(content), media_type="message/rfc822", headers=headers)


def _chunks(content: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := content.read(CHUNK_SIZE):
            yield chunk
    finally:
        content.close()
