"""WeChat's callback, end to end over HTTP: genuine signed (and sealed) pushes in, tickets out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from closeloop.accounts.domain import SYSTEM
from closeloop.api.problems import PROBLEM_MEDIA_TYPE
from closeloop.channels.wechat.domain import EncryptionMode
from closeloop.channels.wechat.service import FETCH_MEDIA_TASK
from closeloop.channels.wechat.signature import compute_signature
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketStatus

from .conftest import CALLBACK, MakeAccount, Push
from .helpers import customer_count, follower, jobs, thread, wechat_tickets
from .support import TOKEN, payload, sign

NOW = 1795572000  # the tests' frozen clock (2026-11-25 02:00 UTC), as WeChat's CreateTime
UowFactory = Callable[[], UnitOfWork]


def text(msg_id: int, content: str, *, create_time: int = NOW) -> str:
    return payload("text", MsgId=msg_id, Content=content, CreateTime=create_time)


# --- server URL verification --------------------------------------------------------------


def test_url_verification_echoes_echostr(client: TestClient, make_account: MakeAccount) -> None:
    account_id = make_account()
    params = sign("", timestamp=NOW).params | {"echostr": "7523419846072631090"}
    response = client.get(CALLBACK.format(account_id=account_id), params=params)
    assert response.status_code == 200
    assert response.text == "7523419846072631090"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"signature": "0" * 40}, id="wrong_signature_case"),
        pytest.param({"signature": ""}, id="no_signature_case"),
        pytest.param({"nonce": "another"}, id="tampered_nonce_case"),
    ],
)
def test_url_verification_refuses_a_bad_signature(
    client: TestClient, make_account: MakeAccount, change: dict[str, str]
) -> None:
    account_id = make_account()
    params = sign("", timestamp=NOW).params | {"echostr": "7523419846072631090"} | change
    response = client.get(CALLBACK.format(account_id=account_id), params=params)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"].endswith("wechat.signature_invalid")
    assert "7523419846072631090" not in response.text


def test_unknown_account_is_404(client: TestClient, make_account: MakeAccount) -> None:
    params = sign("", timestamp=NOW).params | {"echostr": "x"}
    response = client.get(CALLBACK.format(account_id=999_999), params=params)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


# --- messages -------------------------------------------------------------------------------


def test_text_opens_a_ticket(push: Push, make_account: MakeAccount, make_uow: UowFactory) -> None:
    account_id = make_account()
    response = push(account_id, sign(text(1001, "你好，我的订单还没有发货"), timestamp=NOW))
    assert response.status_code == 200
    assert response.text == "success"
    [ticket] = wechat_tickets(make_uow)
    assert ticket.channel == "wechat"
    assert ticket.subject == "你好，我的订单还没有发货"
    [(message, attachments)] = thread(make_uow, ticket.id)
    assert (message.kind, message.body_text, message.external_id) == (
        "customer_message",
        "你好，我的订单还没有发货",
        "1001",
    )
    assert attachments == []
    known = follower(make_uow, account_id)
    assert known is not None
    assert known.last_ticket_id == ticket.id
    assert known.last_interaction_at is not None
    assert int(known.last_interaction_at.timestamp()) == NOW


def test_new_tickets_go_to_the_accounts_team(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    from tests.builders import make_team

    with make_uow() as uow:
        team_id = make_team(uow, name="微信客服").id
        uow.commit()
    account_id = make_account(team_id=team_id)
    push(account_id, sign(text(1002, "发票怎么开"), timestamp=NOW))
    [ticket] = wechat_tickets(make_uow)
    assert ticket.team_id == team_id


def test_second_text_joins_the_same_ticket(
    push: Push, make_account: MakeAccount, make_uow: UowFactory, clock: FrozenClock
) -> None:
    account_id = make_account()
    push(account_id, sign(text(2001, "第一条"), timestamp=NOW))
    clock.advance(timedelta(minutes=3))
    push(account_id, sign(text(2002, "第二条", create_time=NOW + 180), timestamp=NOW + 180))
    [ticket] = wechat_tickets(make_uow)
    assert [m.body_text for m, _a in thread(make_uow, ticket.id)] == ["第一条", "第二条"]


def test_a_duplicate_push_is_taken_once(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    """WeChat retries a push three times when we are slow: each answer is success, once."""
    account_id = make_account()
    xml = text(3001, "在吗")
    answers = [push(account_id, sign(xml, timestamp=NOW + i)) for i in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "success")] * 3
    [ticket] = wechat_tickets(make_uow)
    assert len(thread(make_uow, ticket.id)) == 1


def test_after_the_ticket_is_closed_a_follow_up_opens(
    push: Push, make_account: MakeAccount, make_uow: UowFactory, clock: FrozenClock
) -> None:
    account_id = make_account()
    push(account_id, sign(text(4001, "打印机坏了"), timestamp=NOW))
    [first] = wechat_tickets(make_uow)
    with make_uow() as uow:
        for target in (TicketStatus.resolved, TicketStatus.closed):
            ticket = tickets.get_ticket(uow, ticket_id=first.id, actor=SYSTEM)
            tickets.transition(
                uow,
                ticket_id=first.id,
                target=target,
                pending_reason=None,
                expected_version=ticket.version,
                actor=SYSTEM,
                via="test",
            )
        uow.commit()
    clock.advance(timedelta(hours=1))
    later = NOW + 3600
    push(account_id, sign(text(4002, "又坏了", create_time=later), timestamp=later))
    first_again, follow_up = wechat_tickets(make_uow)
    assert first_again.id == first.id
    assert first_again.status == "closed"
    assert follow_up.status != "closed"
    assert [m.body_text for m, _a in thread(make_uow, follow_up.id)][-1] == "又坏了"
    assert [m.body_text for m, _a in thread(make_uow, first.id)] == ["打印机坏了"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        pytest.param(
            "location", "📍 上海市黄浦区人民大道200号 (31.230416, 121.473701)", id="location_case"
        ),
        pytest.param(
            "link",
            "订单详情\n订单 20261125-0042\nhttps://shop.example.cn/orders/20261125-0042",
            id="link_case",
        ),
        pytest.param("voice", "[语音消息] 打印机又卡纸了", id="voice_case"),
        pytest.param("image", "[图片]", id="image_case"),
    ],
)
def test_message_bodies(
    push: Push, make_account: MakeAccount, make_uow: UowFactory, name: str, body: str
) -> None:
    account_id = make_account()
    assert push(account_id, sign(payload(name), timestamp=NOW)).text == "success"
    [ticket] = wechat_tickets(make_uow)
    [(message, _attachments)] = thread(make_uow, ticket.id)
    assert message.body_text in (body, _english(body))


def _english(body: str) -> str:
    # The placeholders are in the organisation's language (zh_CN by default; en in a demo).
    return body.replace("[语音消息]", "[Voice message]").replace("[图片]", "[Image]")


def test_media_is_not_fetched_while_wechat_waits(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account()
    push(account_id, sign(payload("image"), timestamp=NOW))
    [job] = jobs(make_uow, FETCH_MEDIA_TASK)
    assert job.status == "queued"
    assert job.payload["media_id"].startswith("Q3auHgzwzM5Qki")
    [ticket] = wechat_tickets(make_uow)
    [(message, attachments)] = thread(make_uow, ticket.id)
    assert job.payload["message_id"] == message.id
    assert attachments == []


# --- refusals -------------------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_changes_nothing(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account()
    signed = sign(text(5001, "伪造"), timestamp=NOW, token="notTheToken")
    response = push(account_id, signed)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "伪造" not in response.text
    assert wechat_tickets(make_uow) == []
    assert customer_count(make_uow) == 0


@pytest.mark.parametrize("skew", [-301, 301, -3600], ids=["old_case", "future_case", "hour_case"])
def test_a_push_outside_the_replay_window_is_refused(
    push: Push, make_account: MakeAccount, make_uow: UowFactory, skew: int
) -> None:
    account_id = make_account()
    response = push(account_id, sign(text(5002, "重放"), timestamp=NOW + skew))
    assert response.status_code == 403
    assert wechat_tickets(make_uow) == []


def test_a_push_inside_the_replay_window_is_taken(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account()
    assert push(account_id, sign(text(5003, "稍慢"), timestamp=NOW - 299)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<xml><ToUserName>", id="truncated_case"),
        pytest.param(b"\xff\xfe not utf-8", id="binary_case"),
        pytest.param(b"", id="empty_case"),
        pytest.param(b"<xml><MsgType>text</MsgType></xml>", id="missing_fields_case"),
    ],
)
def test_malformed_xml_is_400(
    client: TestClient, make_account: MakeAccount, make_uow: UowFactory, body: bytes
) -> None:
    account_id = make_account()
    params = sign("", timestamp=NOW).params
    response = client.post(CALLBACK.format(account_id=account_id), params=params, content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert wechat_tickets(make_uow) == []


# --- safe and compatible mode ---------------------------------------------------------------


def test_safe_mode_push_is_opened(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account(EncryptionMode.safe)
    response = push(account_id, sign(text(6001, "加密消息"), timestamp=NOW, encrypted=True))
    assert (response.status_code, response.text) == (200, "success")
    [ticket] = wechat_tickets(make_uow)
    assert [m.body_text for m, _a in thread(make_uow, ticket.id)] == ["加密消息"]


def test_safe_mode_refuses_a_plain_push(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account(EncryptionMode.safe)
    assert push(account_id, sign(text(6002, "明文"), timestamp=NOW)).status_code == 403
    assert wechat_tickets(make_uow) == []


def test_safe_mode_refuses_a_wrong_msg_signature(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account(EncryptionMode.safe)
    signed = sign(text(6003, "篡改"), timestamp=NOW, encrypted=True)
    signed.params["msg_signature"] = compute_signature(TOKEN, "1", "2", "3")
    assert push(account_id, signed).status_code == 403
    assert wechat_tickets(make_uow) == []


def test_safe_mode_refuses_an_envelope_for_another_app(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account(EncryptionMode.safe)
    signed = sign(text(6004, "别的公众号"), timestamp=NOW, encrypted=True, app_id="wxother000000")
    assert push(account_id, signed).status_code == 400
    assert wechat_tickets(make_uow) == []


def test_compatible_mode_takes_plain_and_sealed_pushes(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account(EncryptionMode.compatible)
    assert push(account_id, sign(text(6005, "明文"), timestamp=NOW)).status_code == 200
    sealed = sign(text(6006, "密文"), timestamp=NOW, encrypted=True)
    assert push(account_id, sealed).status_code == 200
    [ticket] = wechat_tickets(make_uow)
    assert [m.body_text for m, _a in thread(make_uow, ticket.id)] == ["明文", "密文"]


# --- events ---------------------------------------------------------------------------------


def test_subscribe_records_the_follower_without_a_ticket(
    push: Push, make_account: MakeAccount, make_uow: UowFactory
) -> None:
    account_id = make_account()
    for _retry in range(2):
        assert push(account_id, sign(payload("subscribe"), timestamp=NOW)).text == "success"
    assert wechat_tickets(make_uow) == []
    assert customer_count(make_uow) == 1
    known = follower(make_uow, account_id)
    assert known is not None
    assert known.is_subscribed
    assert known.customer_id is not None
    assert known.last_event == "subscribe"
    assert known.subscribed_at is not None


def test_unsubscribe_click_view_and_scan_open_no_ticket(
    push: Push, make_account: MakeAccount, make_uow: UowFactory, clock: FrozenClock
) -> None:
    account_id = make_account()
    for offset, name in enumerate(["click", "view", "scan", "unsubscribe", "location_event"]):
        at = NOW + offset
        clock.advance(timedelta(seconds=1))
        response = push(account_id, sign(payload(name, CreateTime=at), timestamp=at))
        assert (response.status_code, response.text) == (200, "success"), name
    assert wechat_tickets(make_uow) == []
    known = follower(make_uow, account_id)
    assert known is not None
    assert not known.is_subscribed
    assert known.last_event == "unsubscribe"
    # The SCAN (the last interaction before unsubscribing) opened the reply window.
    assert known.last_interaction_at is not None
    assert int(known.last_interaction_at.timestamp()) == NOW + 2
