"""HTTP contract of signed webhook intake: POST /api/v1/channels/webhook/{slug}."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.webhook import service as webhooks
from closeloop.channels.webhook.schemas import (
    SourceCreate,
    SourceUpdate,
    WebhookChannel,
    parse_payload,
)
from closeloop.channels.webhook.signing import signature_header
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets.models import Attachment, Message, Ticket

PROBLEM = "application/problem+json"
URL = "/api/v1/channels/webhook/{slug}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def _source(
    uow: UnitOfWork,
    settings: Settings,
    *,
    slug: str = "app",
    channel: WebhookChannel = WebhookChannel.chat,
) -> tuple[int, str]:
    source, secret = webhooks.create_source(
        uow,
        data=SourceCreate(name="Mobile app", slug=slug, channel=channel),
        cipher=channel_cipher(settings.secret_key.get_secret_value()),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    return source.id, secret


def post(
    client: TestClient,
    clock: FrozenClock,
    secret: str,
    payload: Any,
    *,
    slug: str = "app",
    signed_at: int | None = None,
    raw: bytes | None = None,
) -> Response:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    timestamp = int(clock.now().timestamp()) if signed_at is None else signed_at
    headers = {
        "Content-Type": "application/json",
        "X-Closeloop-Signature": signature_header(secret, timestamp, body),
    }
    response: Response = client.post(URL.format(slug=slug), content=body, headers=headers)
    return response


def message(external_id: str = "msg-1", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "external_id": external_id,
        "customer": {"email": "Wang.Fang@example.cn", "external_id": "u-42", "name": "王芳"},
        "subject": "无法登录",
        "body": "登录时提示密码错误。",
    }
    payload.update(overrides)
    return payload


def _problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["type"] == f"urn:closeloop:problem:{code}"
    return body


def _count(uow: UnitOfWork, model: type[Any]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_signed_message_opens_a_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    _id, secret = _source(uow, settings)

    response = post(client, clock, secret, message())

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["outcome"] == "ticket_opened"
    assert answer["number"] == format_ticket_number(answer["ticket_id"])
    ticket = uow.session.get(Ticket, answer["ticket_id"])
    assert ticket is not None
    assert (ticket.subject, ticket.channel) == ("无法登录", "chat")
    by_email = accounts.find_customer_by_identity(uow, IdentityKind.email, "wang.fang@example.cn")
    by_external = accounts.find_customer_by_identity(uow, IdentityKind.external_id, "app:u-42")
    assert by_email is not None
    assert by_external is not None
    assert ticket.requester_id == by_email.id == by_external.id
    assert by_email.name == "王芳"


def test_the_same_external_id_twice_is_one_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    _id, secret = _source(uow, settings)
    first = post(client, clock, secret, message()).json()
    clock.advance(timedelta(seconds=30))

    again = post(client, clock, secret, message(body="changed"))

    assert again.status_code == 200, again.text
    assert again.json() == {**first, "outcome": "duplicate"}
    assert _count(uow, Ticket) == 1
    assert _count(uow, Message) == 1


def test_later_messages_reply_on_the_conversation_or_the_number(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    _id, secret = _source(uow, settings)
    first = post(client, clock, secret, message("m-1", ticket_external_id="conv-7")).json()

    reply = post(client, clock, secret, message("m-2", ticket_external_id="conv-7", body="还在"))
    by_number = post(client, clock, secret, message("m-3", ticket_number=first["number"], body="?"))
    other = post(client, clock, secret, message("m-4", ticket_external_id="conv-8"))

    assert (reply.status_code, reply.json()["outcome"]) == (202, "message_added")
    assert reply.json()["ticket_id"] == first["ticket_id"]
    assert (by_number.status_code, by_number.json()["ticket_id"]) == (202, first["ticket_id"])
    assert other.status_code == 201
    assert other.json()["ticket_id"] != first["ticket_id"]


def test_attachments_are_kept(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    _id, secret = _source(uow, settings)
    attachment = {
        "filename": "screen.png",
        "content_type": "image/png",
        "content_base64": base64.b64encode(PNG).decode(),
    }
    response = post(client, clock, secret, message(attachments=[attachment]))
    assert response.status_code == 201, response.text
    stored = uow.session.scalars(
        select(Attachment).where(Attachment.ticket_id == response.json()["ticket_id"])
    ).all()
    assert [(a.filename, a.size) for a in stored] == [("screen.png", len(PNG))]


@pytest.mark.parametrize(
    ("signed_offset", "status"),
    [
        pytest.param(-300, 201, id="edge_of_window_case"),
        pytest.param(-301, 401, id="too_old_case"),
        pytest.param(301, 401, id="from_the_future_case"),
    ],
)
def test_the_replay_window(
    client: TestClient,
    uow: UnitOfWork,
    settings: Settings,
    clock: FrozenClock,
    signed_offset: int,
    status: int,
) -> None:
    _id, secret = _source(uow, settings)
    signed_at = int(clock.now().timestamp()) + signed_offset
    response = post(client, clock, secret, message(), signed_at=signed_at)
    assert response.status_code == status, response.text


def test_a_source_may_widen_its_window(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    source_id, secret = _source(uow, settings)
    webhooks.update_source(
        uow,
        source_id=source_id,
        data=SourceUpdate(replay_window_seconds=900),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    signed_at = int(clock.now().timestamp()) - 600
    assert post(client, clock, secret, message(), signed_at=signed_at).status_code == 201


@pytest.mark.parametrize("case", ["wrong_secret", "missing", "tampered_body", "malformed"])
def test_bad_signatures_are_refused_and_change_nothing(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock, case: str
) -> None:
    _id, secret = _source(uow, settings)
    body = json.dumps(message()).encode()
    timestamp = int(clock.now().timestamp())
    headers = {"Content-Type": "application/json"}
    if case == "wrong_secret":
        headers["X-Closeloop-Signature"] = signature_header("whsec_wrong", timestamp, body)
    elif case == "tampered_body":
        headers["X-Closeloop-Signature"] = signature_header(secret, timestamp, body)
        body = body.replace(b"msg-1", b"msg-2")
    elif case == "malformed":
        headers["X-Closeloop-Signature"] = "sha256=" + "0" * 64

    response = client.post(URL.format(slug="app"), content=body, headers=headers)

    _problem(response, 401, "webhook.signature_refused")
    assert _count(uow, Ticket) == 0


def test_rotation_keeps_the_old_secret_for_the_grace_period(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    source_id, old = _source(uow, settings)
    cipher = channel_cipher(settings.secret_key.get_secret_value())
    _source_row, new = webhooks.rotate_secret(
        uow,
        source_id=source_id,
        keep_previous_seconds=3600,
        cipher=cipher,
        actor=SYSTEM,
        via="test",
    )
    uow.commit()
    assert new != old

    assert post(client, clock, old, message("m-1")).status_code == 201
    assert post(client, clock, new, message("m-2")).status_code == 201
    clock.advance(timedelta(seconds=3601))
    _problem(post(client, clock, old, message("m-3")), 401, "webhook.signature_refused")
    assert post(client, clock, new, message("m-4")).status_code == 201

    webhooks.rotate_secret(
        uow, source_id=source_id, keep_previous_seconds=0, cipher=cipher, actor=SYSTEM, via="test"
    )
    uow.commit()
    _problem(post(client, clock, new, message("m-5")), 401, "webhook.signature_refused")


def test_unknown_or_switched_off_sources_answer_404(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    source_id, secret = _source(uow, settings)
    _problem(post(client, clock, secret, message(), slug="nope"), 404, "webhook_source.not_found")
    webhooks.update_source(
        uow, source_id=source_id, data=SourceUpdate(is_active=False), actor=SYSTEM, via="test"
    )
    uow.commit()
    _problem(post(client, clock, secret, message()), 404, "webhook_source.not_found")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param(b"not json", "body", id="not_json_case"),
        pytest.param(b"[1, 2]", "body", id="not_an_object_case"),
        pytest.param({"customer": {"email": "a@b.cn"}, "body": "x"}, "external_id", id="no_id"),
        pytest.param(message(customer={"name": "Anon"}), "customer", id="no_identity_case"),
        pytest.param(message(body=""), "body", id="empty_body_case"),
        pytest.param(message(colour="red"), "colour", id="unknown_field_case"),
        pytest.param(message(channel="email"), "channel", id="foreign_channel_case"),
        pytest.param(
            message(attachments=[{"filename": "a.txt", "content_base64": "***"}]),
            "attachments.0.content_base64",
            id="bad_base64_case",
        ),
        pytest.param(
            message(attachments=[{"filename": "a.txt", "content_base64": "eA=="}] * 11),
            "attachments",
            id="too_many_attachments_case",
        ),
        pytest.param(
            {"type": "call", "call_id": "c-1", "started_at": "2026-11-25T10:00:00+08:00"},
            "caller",
            id="call_without_caller_case",
        ),
        pytest.param(
            {
                "type": "call",
                "call_id": "c-1",
                "caller": "4008208820",
                "direction": "outbound",
                "started_at": "2026-11-25T10:00:00+08:00",
                "duration_seconds": 5,
            },
            "body",
            id="outbound_without_callee_case",
        ),
    ],
)
def test_invalid_bodies_answer_422(
    client: TestClient,
    uow: UnitOfWork,
    settings: Settings,
    clock: FrozenClock,
    payload: Any,
    field: str,
) -> None:
    _id, secret = _source(uow, settings)
    raw = payload if isinstance(payload, bytes) else None
    response = post(client, clock, secret, payload, raw=raw)
    problem = _problem(response, 422, "validation_failed")
    assert field in [error["field"] for error in problem["errors"]], problem
    assert _count(uow, Ticket) == 0


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        pytest.param({"email": "not-an-email"}, "customer.email", id="bad_email_case"),
        pytest.param({"phone": "12"}, "customer.phone", id="bad_phone_case"),
    ],
)
def test_invalid_identities_answer_422(
    client: TestClient,
    uow: UnitOfWork,
    settings: Settings,
    clock: FrozenClock,
    customer: dict[str, str],
    field: str,
) -> None:
    _id, secret = _source(uow, settings)
    problem = _problem(
        post(client, clock, secret, message(customer=customer)), 422, "validation_failed"
    )
    assert [error["field"] for error in problem["errors"]] == [field]
    assert _count(uow, Ticket) == 0


def test_an_attachment_over_the_limit_is_refused(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    source_id, secret = _source(uow, settings)
    payload = parse_payload(
        json.dumps(
            message(attachments=[{"filename": "big.bin", "content_base64": "eHh4eA=="}])
        ).encode()
    )
    source = webhooks.get_source(uow, source_id=source_id, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refused:
        webhooks.receive(uow, source=source, payload=payload, max_attachment_bytes=3)
    assert refused.value.errors[0]["field"] == "attachments.0.content_base64"
    # A body over the server's JSON limit is refused before it is read (413).
    big = base64.b64encode(b"x" * settings.max_request_bytes).decode()
    response = post(
        client, clock, secret, message(attachments=[{"filename": "b", "content_base64": big}])
    )
    _problem(response, 413, "request.too_large")
    assert _count(uow, Ticket) == 0


def _call(call_id: str, caller: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "call",
        "call_id": call_id,
        "caller": caller,
        "callee": "400-820-8820",
        "started_at": "2026-11-25T10:03:04+08:00",
        "duration_seconds": 205,
        "direction": "inbound",
        "recording_url": "https://cc.example.cn/rec/c-1001.mp3",
        "agent_note": "Wants a refund.",
    }
    record.update(overrides)
    return record


def test_a_call_record_opens_a_phone_ticket_of_the_caller(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    organisation = accounts.get_organisation(uow)
    organisation.default_locale = "en"
    _id, secret = _source(uow, settings, slug="callcentre", channel=WebhookChannel.phone)

    first = post(client, clock, secret, _call("c-1001", "+86 138 0013 8000"), slug="callcentre")
    second = post(
        client,
        clock,
        secret,
        _call("c-1002", "13800138000", duration_seconds=59, agent_note=""),
        slug="callcentre",
    )

    assert first.status_code == 201, first.text
    ticket = uow.session.get(Ticket, first.json()["ticket_id"])
    assert ticket is not None
    assert (ticket.channel, ticket.subject) == ("phone", "Call from +86 138 0013 8000")
    [body] = uow.session.scalars(select(Message.body_text).where(Message.ticket_id == ticket.id))
    assert body.splitlines()[:6] == [
        "Direction: inbound",
        "Customer number: +86 138 0013 8000",
        "Our number: 400-820-8820",
        "Started: 2026-11-25 10:03:04 CST",
        "Duration: 3 min 25 s",
        "Call id: c-1001",
    ]
    caller = accounts.find_customer_by_identity(uow, IdentityKind.phone, "+8613800138000")
    assert caller is not None
    assert ticket.requester_id == caller.id
    # The same number written another way is the same customer.
    assert second.status_code == 201, second.text
    again = uow.session.get(Ticket, second.json()["ticket_id"])
    assert again is not None
    assert again.requester_id == caller.id
    assert post(
        client, clock, secret, _call("c-1001", "+86 138 0013 8000"), slug="callcentre"
    ).json() == {**first.json(), "outcome": "duplicate"}


def test_a_known_customer_calling_is_recognised_by_phone(
    client: TestClient, uow: UnitOfWork, settings: Settings, clock: FrozenClock
) -> None:
    known = accounts.create_customer(
        uow,
        name="Li Lei",
        identities=[(IdentityKind.email, "li.lei@example.cn"), (IdentityKind.phone, "13900139000")],
        actor=SYSTEM,
        via="test",
    )
    _id, secret = _source(uow, settings, slug="callcentre", channel=WebhookChannel.phone)
    response = post(client, clock, secret, _call("c-9", "+86-139-0013-9000"), slug="callcentre")
    assert response.status_code == 201, response.text
    ticket = uow.session.get(Ticket, response.json()["ticket_id"])
    assert ticket is not None
    assert ticket.requester_id == known.id
