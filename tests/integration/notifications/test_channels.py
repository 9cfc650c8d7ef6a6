"""Chat-bot channels end to end: notify → job → a bot server that verifies like the vendor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.builders import make_agent, make_customer, make_team, make_ticket

from closeloop.accounts.domain import SYSTEM, Role
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock
from closeloop.kit.ids import format_ticket_number
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import ChannelKind, NotificationEvent, Recipient
from closeloop.notifications.models import NotificationChannel, NotificationDelivery
from closeloop.notifications.schemas import ChannelCreate, ChannelUpdate
from closeloop.notifications.senders.email import SmtpSettings
from closeloop.notifications.tasks import DeliveryContext, deliver

from .conftest import SERVER_KEY, RunJobs
from .servers import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    FEISHU_HOOK,
    FEISHU_SECRET,
    WEBHOOK_SECRET,
    WECOM_KEY,
    BotServer,
)

CIPHER = cipher_for(SERVER_KEY)
CONTEXT = DeliveryContext(
    smtp=SmtpSettings(host="", port=25, mail_from="x@example.org"), cipher=CIPHER
)
DUE = "2026-11-25T04:00:00+00:00"


def _channel(
    make_uow: Callable[[], UnitOfWork],
    bots: BotServer,
    kind: ChannelKind,
    *,
    secret: str | None = None,
    team_id: int | None = None,
    events: tuple[str, ...] = ("sla.breached",),
) -> int:
    paths = {
        ChannelKind.wecom: f"/wecom/send?key={WECOM_KEY}",
        ChannelKind.dingtalk: f"/dingtalk/robot/send?access_token={DINGTALK_TOKEN}",
        ChannelKind.feishu: f"/feishu/hook/{FEISHU_HOOK}",
        ChannelKind.webhook: "/webhook",
    }
    secrets = {
        ChannelKind.wecom: None,
        ChannelKind.dingtalk: DINGTALK_SECRET,
        ChannelKind.feishu: FEISHU_SECRET,
        ChannelKind.webhook: WEBHOOK_SECRET,
    }
    data: dict[str, Any] = {
        "kind": kind,
        "name": f"{kind.value} 值班群",
        "url": bots.url(paths[kind]),
        "events": list(events),
        "team_id": team_id,
    }
    chosen = secret if secret is not None else secrets[kind]
    if chosen is not None:
        data["secret"] = chosen
    with make_uow() as uow:
        channel = notifications.create_channel(
            uow, data=ChannelCreate.model_validate(data), cipher=CIPHER, actor=SYSTEM, via="test"
        )
        uow.commit()
        return channel.id


def _breach(
    make_uow: Callable[[], UnitOfWork],
    *,
    team_id: int | None = None,
    occurrence: str | None = None,
    ticket_id: int | None = None,
) -> int:
    with make_uow() as uow:
        if ticket_id is None:
            ticket_id = make_ticket(
                uow, requester=make_customer(uow), subject="机房断电", team_id=team_id
            ).id
        notifications.notify(
            uow,
            event=NotificationEvent.sla_breached,
            recipients=[],
            params={"target": "resolution", "due_at": DUE},
            ticket_id=ticket_id,
            occurrence=occurrence,
        )
        uow.commit()
        return ticket_id


def _deliveries(uow: UnitOfWork) -> list[NotificationDelivery]:
    uow.session.expire_all()
    return list(uow.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def _jobs(uow: UnitOfWork) -> list[Job]:
    uow.session.expire_all()
    return list(
        uow.session.scalars(select(Job).where(Job.name == "notifications.deliver").order_by(Job.id))
    )


@pytest.mark.parametrize("kind", list(ChannelKind), ids=[f"{k.value}_case" for k in ChannelKind])
def test_each_bot_accepts_a_signed_message(
    kind: ChannelKind, make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    _channel(make_uow, bots, kind)
    ticket_id = _breach(make_uow)
    assert run_jobs() == 1
    [received] = bots.received
    assert received.accepted, received
    number = format_ticket_number(ticket_id)
    # The organisation's language (zh_CN) and time zone (Asia/Shanghai).
    title = f"SLA 超时：工单 {number} 的解决"
    body = (
        f"工单 {number}「机房断电」的解决目标已于 2026-11-25 12:00 (Asia/Shanghai) 到期，未能达成。"
    )
    document = received.document
    if kind is ChannelKind.wecom:
        assert document["markdown"]["content"].startswith(f"**{title}**\n\n{body}")
    elif kind is ChannelKind.dingtalk:
        assert document["markdown"]["title"] == title
        assert body in document["markdown"]["text"]
    elif kind is ChannelKind.feishu:
        assert document["card"]["header"]["title"]["content"] == title
        assert document["card"]["elements"][0]["text"]["content"].startswith(body)
    else:
        assert received.headers["x-closeloop-event"] == "sla.breached"
        assert document["title"] == title
        assert document["body"] == body
        assert document["ticket_id"] == ticket_id
        assert document["params"]["number"] == number
        assert document["id"] == received.headers["x-closeloop-delivery"]
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)
        [job] = _jobs(uow)
        assert job.status == "succeeded"


@pytest.mark.parametrize(
    ("kind", "wrong_secret", "answer"),
    [
        pytest.param(ChannelKind.dingtalk, "SECwrong", "errcode 310000", id="dingtalk_case"),
        pytest.param(ChannelKind.feishu, "wrong", "code 19021", id="feishu_case"),
        pytest.param(ChannelKind.webhook, "wrong", "HTTP 401", id="webhook_case"),
    ],
)
def test_a_wrong_secret_is_refused_and_the_delivery_stays_pending(
    kind: ChannelKind,
    wrong_secret: str,
    answer: str,
    make_uow: Callable[[], UnitOfWork],
    bots: BotServer,
    run_jobs: RunJobs,
) -> None:
    _channel(make_uow, bots, kind, secret=wrong_secret)
    _breach(make_uow)
    run_jobs()
    [received] = bots.received
    assert not received.accepted
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        assert (delivery.status, delivery.sent_at) == ("pending", None)
        [job] = _jobs(uow)
        assert job.status == "failed"
        assert job.last_error is not None
        assert answer in job.last_error


def test_a_refusing_bot_is_retried_until_it_accepts_and_then_never_again(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs, clock: FrozenClock
) -> None:
    _channel(make_uow, bots, ChannelKind.wecom)
    _breach(make_uow)
    bots.refuse_with = (45009, "api freq out of limit")
    assert run_jobs() == 1
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        assert delivery.status == "pending"
        [job] = _jobs(uow)
        assert (job.status, job.attempts) == ("failed", 1)
        assert "errcode 45009: api freq out of limit" in (job.last_error or "")
        retry_at = job.run_at
    assert run_jobs() == 0  # not due before its backoff
    bots.refuse_with = None
    clock.set(retry_at + timedelta(seconds=1))
    assert run_jobs() == 1
    assert run_jobs() == 0
    assert [item.accepted for item in bots.received] == [False, True]
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        assert (delivery.status, delivery.sent_at) == ("sent", clock.now())
        [job] = _jobs(uow)
        assert (job.status, job.attempts) == ("succeeded", 2)


def test_the_same_occurrence_is_sent_once(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    _channel(make_uow, bots, ChannelKind.feishu)
    ticket_id = _breach(make_uow, occurrence="sla.breached:ticket:1:resolution")
    _breach(make_uow, occurrence="sla.breached:ticket:1:resolution", ticket_id=ticket_id)
    with make_uow() as uow:
        assert len(_deliveries(uow)) == 1
        assert len(_jobs(uow)) == 1
    assert run_jobs() == 1
    # The job running again (a worker that died before its commit, say) sends nothing more.
    with make_uow() as uow:
        [delivery] = _deliveries(uow)
        deliver(uow, {"delivery_id": delivery.id}, context=CONTEXT)
        uow.commit()
    assert len(bots.accepted("feishu")) == 1


def test_team_channels_hear_only_of_their_teams_tickets(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    with make_uow() as uow:
        first, second = make_team(uow), make_team(uow)
        uow.commit()
        first_id, second_id = first.id, second.id
    _channel(make_uow, bots, ChannelKind.wecom, team_id=first_id)
    _channel(make_uow, bots, ChannelKind.webhook)  # every team
    _channel(make_uow, bots, ChannelKind.dingtalk, events=("sla.warning",))  # other event
    _breach(make_uow, team_id=second_id)
    _breach(make_uow, team_id=first_id)
    assert run_jobs() == 3
    assert len(bots.accepted("wecom")) == 1
    assert len(bots.accepted("webhook")) == 2
    assert bots.accepted("dingtalk") == []


def test_deleted_or_switched_off_channels_cancel_what_was_not_sent(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    deleted = _channel(make_uow, bots, ChannelKind.wecom)
    switched_off = _channel(make_uow, bots, ChannelKind.webhook)
    _breach(make_uow)
    with make_uow() as uow:
        notifications.delete_channel(uow, channel_id=deleted, actor=SYSTEM, via="test")
        notifications.update_channel(
            uow,
            channel_id=switched_off,
            data=ChannelUpdate(is_active=False),
            cipher=CIPHER,
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
    assert run_jobs() == 2
    assert bots.received == []
    with make_uow() as uow:
        reasons = sorted((d.status, d.last_error) for d in _deliveries(uow))
        assert reasons == [
            ("cancelled", "the channel is switched off"),
            ("cancelled", "the channel was deleted"),
        ]
        assert {job.status for job in _jobs(uow)} == {"succeeded"}


def test_a_rolled_back_change_tells_nobody(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    _channel(make_uow, bots, ChannelKind.wecom)
    with make_uow() as uow:
        agent = make_agent(uow, role=Role.agent, password=None)
        ticket = make_ticket(uow, requester=make_customer(uow))
        notifications.notify(
            uow,
            event=NotificationEvent.sla_breached,
            recipients=[Recipient.agent(agent.id)],
            params={"target": "resolution", "due_at": DUE},
            ticket_id=ticket.id,
        )
        uow.rollback()
    assert run_jobs() == 0
    with make_uow() as uow:
        assert _deliveries(uow) == []
        assert _jobs(uow) == []


def test_channel_secrets_are_stored_encrypted(
    make_uow: Callable[[], UnitOfWork], bots: BotServer
) -> None:
    channel_id = _channel(make_uow, bots, ChannelKind.dingtalk)
    with make_uow() as uow:
        channel = uow.session.get(NotificationChannel, channel_id)
        assert channel is not None
        assert channel.secret_encrypted is not None
        assert DINGTALK_SECRET not in channel.secret_encrypted
        assert CIPHER.decrypt(channel.secret_encrypted) == DINGTALK_SECRET


def test_the_test_message_reaches_the_channel(
    make_uow: Callable[[], UnitOfWork], bots: BotServer, run_jobs: RunJobs
) -> None:
    channel_id = _channel(make_uow, bots, ChannelKind.dingtalk)
    with make_uow() as uow:
        delivery = notifications.send_test_message(uow, channel_id=channel_id, actor=SYSTEM)
        uow.commit()
        assert delivery.status == "pending"
    assert run_jobs() == 1
    [received] = bots.accepted("dingtalk")
    assert received.document["markdown"]["title"] == "closeloop 测试消息"
    assert "通知通道「dingtalk 值班群」配置正确。" in received.document["markdown"]["text"]


def test_a_missing_parameter_or_an_overlong_occurrence_is_refused_at_once(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    with make_uow() as uow:
        with pytest.raises(ValueError, match="due_at, subject"):
            notifications.notify(
                uow,
                event=NotificationEvent.sla_warning,
                recipients=[],
                params={"number": "TK-1", "target": "resolution"},
            )
        with pytest.raises(ValueError, match="at most 150"):
            notifications.notify(
                uow,
                event=NotificationEvent.channel_test,
                recipients=[],
                params={"channel": "x"},
                occurrence="x" * 151,
            )
