"""Every event renders in both languages with its parameters; missing parameters fail loudly."""

from __future__ import annotations

import pytest

from closeloop.notifications import templates
from closeloop.notifications.domain import NotificationEvent

PARAMS = {
    "number": "TK-000042",
    "subject": "VPN 断线",
    "priority": "P1",
    "target": "resolution",
    "due_at": "2026-11-25T02:15:00+00:00",
    "step": 2,
    "channel": "值班群",
    "transfers": 3,
}


@pytest.mark.parametrize(
    ("event", "title", "body"),
    [
        pytest.param(
            NotificationEvent.ticket_assigned,
            "Ticket TK-000042 is assigned to you",
            "You are now the assignee of TK-000042 “VPN 断线” (priority P1).",
            id="assigned_case",
        ),
        pytest.param(
            NotificationEvent.ticket_message_added,
            "New message on ticket TK-000042",
            "There is a new message on TK-000042 “VPN 断线”.",
            id="message_case",
        ),
        pytest.param(
            NotificationEvent.sla_warning,
            "SLA warning: resolution of TK-000042 is due soon",
            "The resolution target of TK-000042 “VPN 断线” is due at 2026-11-25 02:15 (UTC).",
            id="warning_case",
        ),
        pytest.param(
            NotificationEvent.sla_breached,
            "SLA breached: resolution of TK-000042",
            "The resolution target of TK-000042 “VPN 断线” was due at 2026-11-25 02:15 (UTC) "
            "and was missed.",
            id="breached_case",
        ),
        pytest.param(
            NotificationEvent.sla_escalated,
            "Ticket TK-000042 escalated (step 2)",
            "TK-000042 “VPN 断线” was escalated because its resolution target was missed.",
            id="escalated_case",
        ),
        pytest.param(
            NotificationEvent.ticket_ping_pong,
            "Ticket TK-000042 is going back and forth between teams",
            "TK-000042 “VPN 断线” was passed between teams 3 times. "
            "Please decide which team owns it.",
            id="ping_pong_case",
        ),
        pytest.param(
            NotificationEvent.channel_test,
            "closeloop test message",
            "The notification channel “值班群” is set up correctly.",
            id="test_case",
        ),
    ],
)
def test_english(event: NotificationEvent, title: str, body: str) -> None:
    rendered = templates.render(event, PARAMS, locale="en", time_zone="UTC")
    assert (rendered.title, rendered.body) == (title, body)


@pytest.mark.parametrize(
    ("event", "title", "body"),
    [
        pytest.param(
            NotificationEvent.ticket_assigned,
            "工单 TK-000042 已分配给您",
            "您现在负责工单 TK-000042「VPN 断线」（优先级 P1）。",
            id="assigned_case",
        ),
        pytest.param(
            NotificationEvent.ticket_message_added,
            "工单 TK-000042 有新消息",
            "工单 TK-000042「VPN 断线」有一条新消息。",
            id="message_case",
        ),
        pytest.param(
            NotificationEvent.sla_warning,
            "SLA 预警：工单 TK-000042 的解决即将到期",
            "工单 TK-000042「VPN 断线」的解决目标将于 2026-11-25 10:15 (Asia/Shanghai) 到期。",
            id="warning_case",
        ),
        pytest.param(
            NotificationEvent.sla_breached,
            "SLA 超时：工单 TK-000042 的解决",
            "工单 TK-000042「VPN 断线」的解决目标已于 2026-11-25 10:15 (Asia/Shanghai) "
            "到期，未能达成。",
            id="breached_case",
        ),
        pytest.param(
            NotificationEvent.sla_escalated,
            "工单 TK-000042 已升级（第 2 级）",
            "工单 TK-000042「VPN 断线」因解决目标未达成而升级。",
            id="escalated_case",
        ),
        pytest.param(
            NotificationEvent.ticket_ping_pong,
            "工单 TK-000042 在团队之间来回转派",
            "工单 TK-000042「VPN 断线」已在团队之间转派 3 次，请确定由哪个团队负责。",
            id="ping_pong_case",
        ),
        pytest.param(
            NotificationEvent.channel_test,
            "closeloop 测试消息",
            "通知通道「值班群」配置正确。",
            id="test_case",
        ),
    ],
)
def test_chinese_in_the_recipients_time_zone(
    event: NotificationEvent, title: str, body: str
) -> None:
    rendered = templates.render(event, PARAMS, locale="zh_CN", time_zone="Asia/Shanghai")
    assert (rendered.title, rendered.body) == (title, body)


@pytest.mark.parametrize(
    ("target", "english", "chinese"),
    [
        pytest.param("first_response", "first response", "首次响应", id="first_response_case"),
        pytest.param("next_response", "next response", "下次响应", id="next_response_case"),
        pytest.param("resolution", "resolution", "解决", id="resolution_case"),
        pytest.param("custom", "custom", "custom", id="unknown_target_case"),
    ],
)
def test_sla_targets_are_named_in_the_language(target: str, english: str, chinese: str) -> None:
    params = {**PARAMS, "target": target}
    event = NotificationEvent.sla_escalated
    assert english in templates.render(event, params, locale="en").body
    assert chinese in templates.render(event, params, locale="zh_CN").body


def test_every_event_has_a_template_whose_parameters_are_known() -> None:
    assert set(templates.TEMPLATES) == set(NotificationEvent)
    for event in NotificationEvent:
        assert templates.required_params(event) <= set(PARAMS), event


def test_a_missing_parameter_fails_with_its_name() -> None:
    with pytest.raises(KeyError, match="priority"):
        templates.render(
            NotificationEvent.ticket_assigned, {"number": "TK-1", "subject": "x"}, locale="en"
        )
    assert templates.missing_params(NotificationEvent.sla_warning, {"number": "TK-1"}) == [
        "due_at",
        "subject",
        "target",
    ]


@pytest.mark.parametrize(
    ("value", "time_zone", "shown"),
    [
        pytest.param(
            "2026-11-25T02:15:00+00:00", "Asia/Shanghai", "2026-11-25 10:15 (Asia/Shanghai)"
        ),
        pytest.param(
            "2026-03-29T01:30:00+00:00", "Europe/Berlin", "2026-03-29 03:30 (Europe/Berlin)"
        ),
        pytest.param("2026-11-25T02:15:00", None, "2026-11-25 02:15 (UTC)"),
        pytest.param("2026-11-25T02:15:00+00:00", "Mars/Olympus", "2026-11-25 02:15 (UTC)"),
        pytest.param("soon", "UTC", "soon"),
    ],
)
def test_instants_are_shown_in_the_time_zone(value: str, time_zone: str | None, shown: str) -> None:
    assert templates.format_instant(value, time_zone) == shown


def test_braces_in_parameters_are_shown_as_they_are() -> None:
    params = {**PARAMS, "subject": "{number} {0} {"}
    rendered = templates.render(NotificationEvent.ticket_message_added, params, locale="en")
    assert rendered.body == "There is a new message on TK-000042 “{number} {0} {”."


def test_email_text_in_both_languages() -> None:
    message = templates.RenderedMessage(title="t", body="正文")
    assert templates.email_text(message, locale="en", number="TK-000042") == (
        "正文\n\nTicket: TK-000042\n\n-- \nThis message was sent automatically by closeloop.\n"
    )
    assert templates.email_text(message, locale="zh_CN", number=None) == (
        "正文\n\n-- \n此消息由 closeloop 自动发送。\n"
    )
