"""Who receives what, idempotency keys, and what an answer may show of a bot's address."""

from __future__ import annotations

import pytest

from closeloop.notifications.domain import (
    MAX_ERROR_LENGTH,
    NotificationEvent,
    Recipient,
    channel_key,
    channel_wants,
    email_key,
    in_app_key,
    masked_url,
    shorten_error,
    unique_recipients,
)


@pytest.mark.parametrize(
    ("events", "channel_team", "ticket_team", "wanted"),
    [
        pytest.param(["sla.breached"], None, 3, True, id="organisation_wide_case"),
        pytest.param(["sla.breached"], None, None, True, id="no_team_ticket_case"),
        pytest.param(["sla.breached"], 3, 3, True, id="own_team_case"),
        pytest.param(["sla.breached"], 3, 4, False, id="other_team_case"),
        pytest.param(["sla.breached"], 3, None, False, id="team_channel_unassigned_ticket_case"),
        pytest.param(["sla.warning"], None, 3, False, id="not_subscribed_case"),
    ],
)
def test_channel_wants(
    events: list[str], channel_team: int | None, ticket_team: int | None, wanted: bool
) -> None:
    assert (
        channel_wants(
            subscribed_events=events,
            channel_team_id=channel_team,
            event=NotificationEvent.sla_breached,
            ticket_team_id=ticket_team,
        )
        is wanted
    )


def test_keys_differ_per_target_and_repeat_per_occurrence() -> None:
    agent, customer = Recipient.agent(7), Recipient.customer(7)
    keys = {
        in_app_key("o", agent),
        email_key("o", agent),
        email_key("o", customer),
        channel_key("o", 7),
    }
    assert len(keys) == 4
    assert email_key("o", agent) == email_key("o", Recipient.agent(7))
    assert email_key("o", agent) != email_key("p", agent)


def test_unique_recipients_keeps_the_first_order() -> None:
    a, b = Recipient.agent(1), Recipient.customer(2)
    assert unique_recipients([b, a, b, Recipient.customer(2), a]) == [b, a]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param(
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…",
            id="wecom_case",
        ),
        pytest.param(
            "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef",
            "https://oapi.dingtalk.com/robot/send?access_token=0123…",
            id="dingtalk_case",
        ),
        pytest.param(
            "https://open.feishu.cn/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd",
            "https://open.feishu.cn/open-apis/bot/v2/hook/5e3d…",
            id="feishu_case",
        ),
        pytest.param(
            "https://user:password@hooks.example.com:8443/in?t=ab#frag",
            "https://hooks.example.com:8443/in?t=…",
            id="credentials_case",
        ),
    ],
)
def test_masked_url_hides_tokens(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_shorten_error() -> None:
    assert shorten_error("a\n  b") == "a b"
    long = shorten_error("x" * 5000)
    assert len(long) == MAX_ERROR_LENGTH
    assert long.endswith("…")
