"""The WeChat jobs against a local server that answers like WeChat's API: media fetched after
the message committed, agents' replies sent within the 48-hour window, tokens shared."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from tests.builders import make_agent, principal_of

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.channels.wechat.service import FETCH_MEDIA_TASK, SEND_TASK
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.schemas import MessageCreate

from .conftest import MakeAccount, Push, RunJobs
from .helpers import account, deliveries, jobs, thread, wechat_tickets
from .support import AMR, JPEG, OPENID, FakeWeChat, payload, sign

NOW = 1795572000
UowFactory = Callable[[], UnitOfWork]
IMAGE_ID = "Q3auHgzwzM5QkiCcxsMJNOvbE_zv5zqyWC0EwM7tLAX1tUqlnwp4pYN5JBAuYbz3"
VOICE_ID = "J8yVb7nHhFpUK2x0_voice_media_id_5mEtaBMx"


def reply(make_uow: UowFactory, ticket_id: int, body: str, **extra: object) -> int:
    """An agent's reply (or note), committed as the API would."""
    with make_uow() as uow:
        agent = make_agent(uow, role=Role.admin)
        message = tickets.add_message(
            uow,
            ticket_id=ticket_id,
            data=MessageCreate.model_validate({"body": body, **extra}),
            actor=principal_of(uow, agent),
            via="test",
        )
        uow.commit()
        return message.id


def conversation(push: Push, make_account: MakeAccount, make_uow: UowFactory) -> tuple[int, int]:
    account_id = make_account()
    push(account_id, sign(payload("text", MsgId=7001), timestamp=NOW))
    [ticket] = wechat_tickets(make_uow)
    return account_id, ticket.id


# --- media ----------------------------------------------------------------------------------


def test_image_is_fetched_and_attached_after_the_message_committed(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
    wechat_settings: Settings,
) -> None:
    wechat.add_media(IMAGE_ID, JPEG, "image/jpeg", "jpg")
    account_id = make_account()
    assert push(account_id, sign(payload("image"), timestamp=NOW)).text == "success"
    assert wechat.calls == []  # nothing was downloaded while WeChat waited

    assert run_jobs() == 1

    [ticket] = wechat_tickets(make_uow)
    [(message, [attachment])] = thread(make_uow, ticket.id)
    assert message.kind == "customer_message"
    assert attachment.filename == f"wechat-image-{IMAGE_ID[:40]}.jpg"
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(JPEG)
    stored = AttachmentStore(wechat_settings.attachments_dir).path_of(attachment.sha256)
    assert stored.read_bytes() == JPEG
    assert wechat.calls == ["/cgi-bin/token", "/cgi-bin/media/get"]
    [job] = jobs(make_uow, FETCH_MEDIA_TASK)
    assert job.status == "succeeded"
    cached = account(make_uow, account_id)
    assert cached.access_token_encrypted is not None
    assert wechat.tokens[0] not in cached.access_token_encrypted  # stored encrypted


def test_voice_keeps_its_recognition_and_gets_the_file(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    wechat.add_media(VOICE_ID, AMR, "audio/amr", "amr")
    account_id = make_account()
    push(account_id, sign(payload("voice"), timestamp=NOW))
    run_jobs()
    [ticket] = wechat_tickets(make_uow)
    [(message, [attachment])] = thread(make_uow, ticket.id)
    assert message.body_text.endswith("打印机又卡纸了")
    assert attachment.filename.endswith(".amr")
    assert attachment.content_type == "audio/amr"


def test_video_is_downloaded_from_its_video_url(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    wechat.add_media("video_media_id_QwErTy123", b"", "video/mp4", "mp4")
    account_id = make_account()
    push(account_id, sign(payload("video"), timestamp=NOW))
    run_jobs()
    [ticket] = wechat_tickets(make_uow)
    [(_message, [attachment])] = thread(make_uow, ticket.id)
    assert attachment.content_type == "video/mp4"
    assert wechat.calls[-1] == "/files/video.mp4"


def test_an_expired_token_is_refreshed_once_and_shared(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    wechat.add_media(IMAGE_ID, JPEG, "image/jpeg", "jpg")
    wechat.add_media(VOICE_ID, AMR, "audio/amr", "amr")
    account_id = make_account()
    push(account_id, sign(payload("image"), timestamp=NOW))
    run_jobs()
    first_token = account(make_uow, account_id).access_token_encrypted
    assert wechat.token_calls() == 1

    wechat.expire_next = True  # WeChat answers 42001 to the cached token once
    push(account_id, sign(payload("voice"), timestamp=NOW))
    run_jobs()

    # 42001 for the cached token, a new token, the download again.
    assert wechat.calls[-3:] == ["/cgi-bin/media/get", "/cgi-bin/token", "/cgi-bin/media/get"]
    assert wechat.token_calls() == 2
    assert account(make_uow, account_id).access_token_encrypted != first_token
    tickets_now = wechat_tickets(make_uow)
    assert [len(a) for _m, a in thread(make_uow, tickets_now[0].id)] == [1, 1]

    # The refreshed token is cached: the next job fetches none.
    push(account_id, sign(payload("voice", MsgId=99, MediaId=VOICE_ID), timestamp=NOW))
    run_jobs()
    assert wechat.token_calls() == 2


def test_media_wechat_no_longer_has_is_noted_for_the_agents(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
) -> None:
    account_id = make_account()
    push(account_id, sign(payload("image"), timestamp=NOW))  # the server has no such media
    run_jobs()
    [ticket] = wechat_tickets(make_uow)
    [(_customer, []), (note, [])] = thread(make_uow, ticket.id)
    assert note.kind == "internal_note"
    assert "40007" in note.body_text
    [job] = jobs(make_uow, FETCH_MEDIA_TASK)
    assert job.status == "succeeded"  # retrying cannot help


# --- replies ----------------------------------------------------------------------------------


def test_an_agents_reply_goes_to_the_follower(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    reply(make_uow, ticket_id, "您好，订单今天发货。")
    assert wechat.sent == []  # sent by the worker, after the commit

    run_jobs()

    assert wechat.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您好，订单今天发货。"}}
    ]
    [delivery] = deliveries(make_uow, ticket_id)
    assert (delivery.status, delivery.attempts, delivery.send_started_at) == ("sent", 1, None)
    [job] = jobs(make_uow, SEND_TASK)
    assert job.status == "succeeded"
    run_jobs()
    assert len(wechat.sent) == 1  # nothing is sent twice


def test_internal_notes_stay_inside(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    reply(make_uow, ticket_id, "客户是 VIP", kind=MessageKind.internal_note.value)
    run_jobs()
    assert wechat.sent == []
    assert deliveries(make_uow, ticket_id) == []


def test_a_reply_after_48_hours_is_not_sent_and_the_agent_is_told(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
    clock: FrozenClock,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    clock.advance(timedelta(hours=48, minutes=1))
    reply_id = reply(make_uow, ticket_id, "抱歉回复晚了")
    run_jobs()

    assert wechat.sent == []
    assert "/cgi-bin/message/custom/send" not in wechat.calls
    [delivery] = deliveries(make_uow, ticket_id)
    assert delivery.status == "cancelled"
    assert delivery.last_error == "outside WeChat's 48-hour window"
    messages = [m for m, _a in thread(make_uow, ticket_id)]
    assert [m.kind for m in messages] == ["customer_message", "public_reply", "internal_note"]
    assert messages[1].id == reply_id
    assert "48" in messages[2].body_text


def test_a_new_message_reopens_the_window(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
    clock: FrozenClock,
) -> None:
    account_id, ticket_id = conversation(push, make_account, make_uow)
    clock.advance(timedelta(hours=72))
    later = NOW + 72 * 3600
    push(account_id, sign(payload("text", MsgId=7002, CreateTime=later), timestamp=later))
    reply(make_uow, ticket_id, "收到")
    run_jobs()
    assert [m["text"]["content"] for m in wechat.sent] == ["收到"]


def test_wechats_own_window_refusal_is_noted(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    wechat.refuse_with = 45015
    reply(make_uow, ticket_id, "在吗")
    run_jobs()
    [delivery] = deliveries(make_uow, ticket_id)
    assert delivery.status == "cancelled"
    assert "45015" in (delivery.last_error or "")
    assert thread(make_uow, ticket_id)[-1][0].kind == "internal_note"


def test_replies_share_one_token_and_refresh_it_on_42001(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    reply(make_uow, ticket_id, "一")
    reply(make_uow, ticket_id, "二")
    run_jobs()
    assert wechat.token_calls() == 1
    wechat.expire_next = True
    reply(make_uow, ticket_id, "三")
    run_jobs()
    assert wechat.token_calls() == 2
    assert [m["text"]["content"] for m in wechat.sent] == ["一", "二", "三"]
    assert [d.status for d in deliveries(make_uow, ticket_id)] == ["sent"] * 3


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n" + b"0" * 32


def upload(make_uow: UowFactory, settings: Settings, ticket_id: int, name: str, data: bytes) -> int:
    with make_uow() as uow:
        attachment = tickets.upload_attachment(
            uow,
            ticket_id=ticket_id,
            filename=name,
            content_type="application/octet-stream",
            stream=io.BytesIO(data),
            store=AttachmentStore(settings.attachments_dir),
            max_bytes=1024,
            blocked_extensions=(),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
        return attachment.id


def test_images_are_uploaded_and_sent_other_files_are_linked(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
    wechat_settings: Settings,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    image = upload(make_uow, wechat_settings, ticket_id, "截图.png", PNG)
    invoice = upload(make_uow, wechat_settings, ticket_id, "发票.pdf", PDF)
    reply(make_uow, ticket_id, "发票和截图见附件", attachment_ids=[image, invoice])
    run_jobs()

    text, picture = wechat.sent
    assert text["msgtype"] == "text"
    assert text["text"]["content"].startswith("发票和截图见附件\n\n")
    assert f"{wechat_settings.public_base_url}/t/TK-" in text["text"]["content"]
    assert picture == {"touser": OPENID, "msgtype": "image", "image": {"media_id": "UPLOADED_1"}}
    assert wechat.uploads == {"UPLOADED_1": ("image/png", PNG)}
    [delivery] = deliveries(make_uow, ticket_id)
    assert (delivery.status, delivery.parts_sent) == ("sent", 2)


def test_a_retry_sends_only_the_parts_that_did_not_go_out(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
    wechat_settings: Settings,
    clock: FrozenClock,
) -> None:
    _account_id, ticket_id = conversation(push, make_account, make_uow)
    image = upload(make_uow, wechat_settings, ticket_id, "截图.png", PNG)
    wechat.refuse_with, wechat.refuse_after = -1, 1  # the text goes out, then "system busy"
    reply(make_uow, ticket_id, "截图见附件", attachment_ids=[image])
    run_jobs()
    [delivery] = deliveries(make_uow, ticket_id)
    assert (delivery.status, delivery.parts_sent, delivery.attempts) == ("pending", 1, 1)
    assert [m["msgtype"] for m in wechat.sent] == ["text"]
    [job] = jobs(make_uow, SEND_TASK)
    assert job.status == "failed"

    clock.advance(timedelta(minutes=1))  # past the retry's backoff
    run_jobs()

    assert [m["msgtype"] for m in wechat.sent] == ["text", "image"]
    [delivery] = deliveries(make_uow, ticket_id)
    assert (delivery.status, delivery.parts_sent, delivery.attempts) == ("sent", 2, 2)


def test_a_dead_account_cancels_with_a_note(
    push: Push,
    make_account: MakeAccount,
    make_uow: UowFactory,
    run_jobs: RunJobs,
    wechat: FakeWeChat,
) -> None:
    from closeloop.channels.wechat import service as wechat_service

    account_id, ticket_id = conversation(push, make_account, make_uow)
    reply(make_uow, ticket_id, "稍等")
    with make_uow() as uow:
        wechat_service.delete_account(uow, account_id=account_id, actor=SYSTEM, via="test")
        uow.commit()
    run_jobs()
    assert wechat.sent == []
    [delivery] = deliveries(make_uow, ticket_id)
    assert delivery.status == "cancelled"
    assert thread(make_uow, ticket_id)[-1][0].kind == "internal_note"
