"""Admin pages for channels: mailboxes, acknowledgement templates, WeChat accounts, webhook
sources (secret once, rotate), the CRM lookup and the quarantine. Secrets never come back."""

from __future__ import annotations

from fastapi.testclient import TestClient

from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, SenderIdentity
from closeloop.channels.crm import service as crm
from closeloop.channels.email import mailboxes
from closeloop.channels.webhook import service as webhooks
from closeloop.channels.wechat import service as wechat
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets.domain import Channel
from tests.builders import make_team
from tests.web.admin_world import admin, admin_client, assert_admin_only, refused_csrf
from tests.web.conftest import SignIn

__all__ = ["admin", "admin_client"]

IMAP_PASSWORD = "imap-pass-Zq81xv"
APP_SECRET = "wechat-app-secret-7Hk2"
TOKEN = "tokenAbc123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CRM_TOKEN = "crm-bearer-Pp02"


def test_only_admins_see_the_channel_pages(
    admin_client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    paths = [
        "/admin/channels",
        "/admin/channels/mailboxes",
        "/admin/channels/wechat",
        "/admin/channels/webhooks",
        "/admin/channels/crm",
        "/admin/channels/quarantine",
    ]
    for path in paths:
        assert admin_client.get(path).status_code == 200, path
    assert_admin_only(admin_client, uow, signed_in, paths)


def test_a_mailbox_password_is_write_only(admin_client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="Support")
    uow.commit()
    form = {
        "team_id": str(team.id),
        "name": "Support inbox",
        "address": "support@example.cn",
        "imap_host": "127.0.0.1",
        "imap_port": "1",
        "tls_mode": "none",
        "folder": "INBOX",
        "username": "support",
        "password": IMAP_PASSWORD,
        "is_active": "1",
    }
    refused = admin_client.post(
        "/admin/channels/mailboxes", data={**form, "address": "not an address"}
    )
    assert refused.status_code == 422
    assert 'value="Support inbox"' in refused.text
    assert IMAP_PASSWORD not in refused.text
    answer = admin_client.post("/admin/channels/mailboxes", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:3000]
    (mailbox,) = mailboxes.list_mailboxes(uow, actor=SYSTEM)
    assert mailbox.password_encrypted is not None
    page = admin_client.get(answer.headers["location"]).text
    assert IMAP_PASSWORD not in page
    assert "support@example.cn" in page
    # Saving without a password keeps it; the connection test answers without changing anything.
    saved = admin_client.post(
        answer.headers["location"],
        data={**form, "password": "", "name": "Inbox"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    uow.session.expire_all()
    (mailbox,) = mailboxes.list_mailboxes(uow, actor=SYSTEM)
    assert (mailbox.name, mailbox.password_encrypted is not None) == ("Inbox", True)
    tested = admin_client.post(f"/admin/channels/mailboxes/{mailbox.id}/test")
    assert tested.status_code == 200
    assert 'id="test-result"' in tested.text
    assert IMAP_PASSWORD not in tested.text
    refused_csrf(admin_client, f"/admin/channels/mailboxes/{mailbox.id}/delete", {})
    assert mailboxes.list_mailboxes(uow, actor=SYSTEM)


def test_the_acknowledgement_template_of_a_team(admin_client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="Support")
    uow.commit()
    answer = admin_client.post(
        f"/admin/channels/email-templates/{team.id}",
        data={
            "sender_name": "客服",
            "acknowledgement_subject_zh": "已收到 {ticket_number}",
            "acknowledgement_body_en": "Got it",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    row = mailboxes.get_template(uow, team_id=team.id, actor=SYSTEM)
    assert row is not None
    assert row.acknowledgement_subject_zh == "已收到 {ticket_number}"
    assert "已收到 {ticket_number}" in admin_client.get(answer.headers["location"]).text


def test_wechat_secrets_are_write_only_and_the_callback_url_is_shown(
    admin_client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    form = {
        "name": "服务号",
        "app_id": "wx1234567890abcdef",
        "app_secret": APP_SECRET,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "encryption_mode": "safe",
        "is_active": "1",
    }
    refused = admin_client.post("/admin/channels/wechat", data={**form, "app_id": "nope"})
    assert refused.status_code == 422
    assert 'value="服务号"' in refused.text
    assert APP_SECRET not in refused.text
    assert TOKEN not in refused.text
    assert AES_KEY not in refused.text
    answer = admin_client.post("/admin/channels/wechat", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:3000]
    (account,) = wechat.list_accounts(uow, actor=SYSTEM)
    page = admin_client.get(answer.headers["location"]).text
    for secret in (APP_SECRET, TOKEN, AES_KEY):
        assert secret not in page
    assert f"/api/v1/channels/wechat/{account.id}/callback" in page
    saved = admin_client.post(
        answer.headers["location"],
        data={"name": "Service account", "encryption_mode": "safe", "is_active": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    uow.session.expire_all()
    (account,) = wechat.list_accounts(uow, actor=SYSTEM)
    assert account.name == "Service account"


def test_a_webhook_secret_is_shown_once_and_rotated(
    admin_client: TestClient, uow: UnitOfWork
) -> None:
    answer = admin_client.post(
        "/admin/channels/webhooks",
        data={
            "name": "Call center",
            "slug": "call-center",
            "channel": "phone",
            "replay_window_seconds": "300",
            "is_active": "1",
        },
    )
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    secret = answer.text.split('id="secret-value"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert len(secret) >= 20
    (source,) = webhooks.list_sources(uow, actor=SYSTEM)
    page = admin_client.get(f"/admin/channels/webhooks/{source.id}").text
    assert secret not in page
    assert "/api/v1/channels/webhook/call-center" in page
    assert secret not in admin_client.get("/admin/channels/webhooks").text
    duplicate = admin_client.post(
        "/admin/channels/webhooks", data={"name": "Again", "slug": "call-center"}
    )
    assert duplicate.status_code == 422
    assert 'value="Again"' in duplicate.text
    rotated = admin_client.post(
        f"/admin/channels/webhooks/{source.id}/rotate", data={"keep_previous_seconds": "0"}
    )
    assert rotated.status_code == 200
    new_secret = rotated.text.split('id="secret-value"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert new_secret != secret
    assert new_secret not in admin_client.get(f"/admin/channels/webhooks/{source.id}").text


def test_crm_token_is_write_only(admin_client: TestClient, uow: UnitOfWork) -> None:
    answer = admin_client.post(
        "/admin/channels/crm",
        data={
            "is_enabled": "1",
            "url_template": "http://127.0.0.1:9/customers?email={email}",
            "token": CRM_TOKEN,
            "timeout_seconds": "1",
            "tier_path": "/tier",
            "tier_values": "gold=vip",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:3000]
    row = crm.read_settings(uow, actor=SYSTEM)
    assert row.is_enabled
    assert dict(row.tier_values) == {"gold": "vip"}
    page = admin_client.get("/admin/channels/crm").text
    assert CRM_TOKEN not in page
    assert "gold=vip" in page
    tested = admin_client.post("/admin/channels/crm/test", data={"email": "li@example.cn"})
    assert tested.status_code == 200
    assert 'id="crm-result"' in tested.text
    assert CRM_TOKEN not in tested.text
    refused = admin_client.post(
        "/admin/channels/crm", data={"url_template": "x", "timeout_seconds": "999"}
    )
    assert refused.status_code == 422


def test_quarantine_release_discard_and_raw(
    admin_client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    ingest_settings = channel_service.IngestSettings.from_settings(settings)
    for number in (1, 2):
        message = InboundMessage(
            channel=Channel.email,
            external_id=f"q{number}@example.net",
            sender=SenderIdentity(IdentityKind.email, "li.lei@example.net"),
            subject="",
            body_text="",
            received_at=uow.clock.now(),
            raw=f"Message-ID: <q{number}@example.net>\r\n\r\n".encode(),
        )
        assert (
            channel_service.ingest(uow, message, via="test", settings=ingest_settings).outcome
            == "quarantined"
        )
    uow.commit()
    page = admin_client.get("/admin/channels/quarantine").text
    assert "li.lei@example.net" in page
    assert "no subject, no text" in page
    items = channel_service.list_quarantine(uow, actor=SYSTEM).items
    first, second = items
    raw = admin_client.get(f"/admin/channels/quarantine/{first.id}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("message/rfc822")
    refused_csrf(admin_client, f"/admin/channels/quarantine/{first.id}/discard", {})
    assert len(channel_service.list_quarantine(uow, actor=SYSTEM).items) == 2
    assert (
        admin_client.post(
            f"/admin/channels/quarantine/{first.id}/discard", follow_redirects=False
        ).status_code
        == 303
    )
    assert (
        admin_client.post(
            f"/admin/channels/quarantine/{second.id}/release", follow_redirects=False
        ).status_code
        == 303
    )
    uow.session.expire_all()
    left = channel_service.list_quarantine(uow, actor=SYSTEM).items
    assert [i.id for i in left] == [second.id]  # released, and set aside again: still empty
