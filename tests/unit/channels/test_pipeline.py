"""The pipeline's decisions: loops, noise, bounces and auto-replies are recognised; people's mail
is taken. Subjects normalise to what a conversation shares."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.accounts.domain import IdentityKind
from closeloop.channels.base import InboundMessage, SenderIdentity
from closeloop.channels.pipeline import (
    Decision,
    DecisionKind,
    IgnoreReason,
    PipelineContext,
    bounce_recipient,
    decide,
    normalise_subject,
    subject_key,
)
from closeloop.tickets.domain import Channel

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CONTEXT = PipelineContext(own_addresses=frozenset({"support@closeloop.test"}), now=NOW)


def message(
    *,
    sender: str = "li.lei@example.org",
    subject: str = "打印机无法连接",
    body: str = "连不上",
    headers: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    kind: IdentityKind = IdentityKind.email,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.email,
        external_id="m@x",
        sender=SenderIdentity(kind, sender),
        subject=subject,
        body_text=body,
        received_at=NOW,
        headers=headers or {},
        metadata=metadata or {},
    )


def test_a_persons_mail_is_taken() -> None:
    assert decide(message(), CONTEXT) == Decision.take()


def test_a_wechat_message_without_headers_is_taken() -> None:
    wechat = message(sender="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", kind=IdentityKind.wechat_openid)
    assert decide(wechat, CONTEXT).kind is DecisionKind.take


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param({"sender": "Support@Closeloop.test"}, IgnoreReason.own_address, id="own_case"),
        pytest.param(
            {"sender": "no-reply@closeloop.test"}, IgnoreReason.own_address, id="noreply_case"
        ),
        pytest.param(
            {"headers": {"X-Loop": "support@closeloop.test"}},
            IgnoreReason.loop_header,
            id="xloop_case",
        ),
        pytest.param(
            {"sender": "postmaster@example.org"}, IgnoreReason.system_sender, id="postmaster_case"
        ),
        pytest.param(
            {"headers": {"Auto-Submitted": "auto-generated"}},
            IgnoreReason.auto_submitted,
            id="auto_generated_case",
        ),
        pytest.param(
            {"headers": {"auto-submitted": "auto-replied; owner-email=x@y"}},
            IgnoreReason.auto_submitted,
            id="auto_replied_case",
        ),
        pytest.param(
            {"headers": {"X-Autoreply": "yes"}},
            IgnoreReason.auto_reply_header,
            id="x_autoreply_case",
        ),
        pytest.param(
            {"headers": {"X-Autorespond": "1"}},
            IgnoreReason.auto_reply_header,
            id="x_autorespond_case",
        ),
        pytest.param(
            {"headers": {"X-Auto-Response-Suppress": "DR, OOF"}},
            IgnoreReason.auto_reply_header,
            id="suppress_oof_case",
        ),
        pytest.param(
            {"headers": {"X-Auto-Response-Suppress": "All"}},
            IgnoreReason.auto_reply_header,
            id="suppress_all_case",
        ),
        pytest.param(
            {"headers": {"Auto-Submitted": "auto-replied (vacation)"}},
            IgnoreReason.auto_submitted,
            id="auto_replied_comment_case",
        ),
        pytest.param(
            {"headers": {"Auto-Submitted": "auto-notified"}},
            IgnoreReason.auto_submitted,
            id="auto_notified_case",
        ),
        pytest.param(
            {"headers": {"Precedence": "auto_reply"}},
            IgnoreReason.auto_reply_header,
            id="precedence_auto_reply_case",
        ),
        pytest.param(
            {"headers": {"X-Auto-Response-Suppress": "AutoReply"}},
            IgnoreReason.auto_reply_header,
            id="suppress_autoreply_case",
        ),
        pytest.param(
            {"headers": {"Return-Path": "<>"}, "subject": "Read: 打印机无法连接"},
            IgnoreReason.system_sender,
            id="null_return_path_case",
        ),
        pytest.param(
            {"sender": "MAILER-DAEMON@example.org", "headers": {"Auto-Submitted": "no"}},
            None,
            id="mailer_daemon_case",
        ),
        pytest.param({"headers": {"Precedence": "bulk"}}, IgnoreReason.bulk, id="bulk_case"),
        pytest.param({"headers": {"Precedence": "junk"}}, IgnoreReason.bulk, id="junk_case"),
        pytest.param(
            {"headers": {"Precedence": "list", "List-Id": "<scr.example.org>"}},
            IgnoreReason.mailing_list,
            id="list_case",
        ),
        pytest.param(
            {"headers": {"Precedence": "bulk", "List-Unsubscribe": "<mailto:u@x>"}},
            IgnoreReason.mailing_list,
            id="bulk_list_case",
        ),
        pytest.param(
            {"subject": "自动回复：打印机无法连接"}, IgnoreReason.auto_reply_subject, id="zh_case"
        ),
        pytest.param(
            {"subject": "Automatic reply: printer"},
            IgnoreReason.auto_reply_subject,
            id="outlook_case",
        ),
        pytest.param(
            {"subject": "Out of Office: back Monday"},
            IgnoreReason.auto_reply_subject,
            id="oof_case",
        ),
        pytest.param(
            {"subject": "Auto: printer"}, IgnoreReason.auto_reply_subject, id="auto_prefix_case"
        ),
    ],
)
def test_noise_is_ignored_with_its_reason(
    fields: dict[str, Any], reason: IgnoreReason | None
) -> None:
    decision = decide(message(**fields), CONTEXT)

    if reason is None:  # mail of a mail system is a report: a bounce, never a ticket
        assert decision.kind is DecisionKind.bounce
        return
    assert decision.kind is DecisionKind.ignore
    assert decision.reason is reason
    assert decision.text.render("en")
    assert decision.text.render("zh_CN")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Auto-Submitted": "no"}, id="auto_submitted_no_case"),
        pytest.param({"Auto-Submitted": "no (a person)"}, id="auto_submitted_no_comment_case"),
        pytest.param({"Return-Path": "<li.lei@example.org>"}, id="return_path_case"),
        pytest.param({"X-Auto-Response-Suppress": "DR, RN"}, id="suppress_receipts_case"),
        pytest.param({"List-Id": "<customers.example.org>"}, id="list_without_precedence_case"),
        pytest.param({"X-Loop": "someone-else@example.org"}, id="foreign_loop_case"),
    ],
)
def test_harmless_headers_do_not_stop_a_message(headers: dict[str, str]) -> None:
    assert decide(message(headers=headers), CONTEXT).kind is DecisionKind.take


def test_a_foreign_no_reply_sender_is_taken() -> None:
    # An alerting system of a customer writes from no-reply@ their domain: a ticket all the same.
    assert decide(message(sender="no-reply@monitoring.example.org"), CONTEXT).kind is (
        DecisionKind.take
    )


DSN_TEXT = """Reporting-MTA: dns; cougar.noc.ucla.edu

Action: failed
Status: 5.0.0 (recipient reached disk quota)
Original-recipient: rfc822;jangel1@cougar.noc.ucla.edu
Final-recipient: rfc822;JAngel1@cougar.noc.ucla.edu

Final-Recipient: rfc822; second@example.org
Action: failed
Status: 5.7.1
"""


def test_a_delivery_report_is_a_bounce_for_every_failed_recipient() -> None:
    report = message(
        sender="postmaster@ucla.edu",
        subject="Delivery Notification: Delivery has failed",
        body=DSN_TEXT,
        headers={"Content-Type": "multipart/report", "Precedence": "bulk"},
    )

    decision = decide(report, CONTEXT)

    assert decision.kind is DecisionKind.bounce
    assert decision.failing_addresses == ("jangel1@cougar.noc.ucla.edu", "second@example.org")
    assert bounce_recipient(report) == "jangel1@cougar.noc.ucla.edu"


@pytest.mark.parametrize(
    "dsn",
    [
        pytest.param(DSN_TEXT, id="text_case"),
        pytest.param(
            {"final_recipient": "rfc822; JAngel1@cougar.noc.ucla.edu", "action": "failed"},
            id="mapping_case",
        ),
        pytest.param(
            [{"Original-Recipient": "rfc822;jangel1@cougar.noc.ucla.edu", "Status": "5.1.1"}],
            id="list_case",
        ),
    ],
)
def test_bounce_recipient_reads_the_parsers_dsn_first(dsn: Any) -> None:
    report = message(
        sender="MAILER-DAEMON@mx.example.org",
        subject="Undelivered Mail Returned to Sender",
        body="Final-Recipient: rfc822; wrong@example.org\nAction: failed",
        metadata={"dsn": dsn},
    )
    assert bounce_recipient(report) == "jangel1@cougar.noc.ucla.edu"


def test_the_parsers_summary_of_a_report_fails_every_failed_recipient() -> None:
    """``parse_message`` describes the first failed recipient and lists all of them."""
    report = message(
        sender="MAILER-DAEMON@mx.example.org",
        subject="Undelivered Mail Returned to Sender",
        body="This is the mail system.",
        metadata={
            "dsn": {
                "final_recipient": "first@example.org",
                "action": "failed",
                "status": "5.1.1",
                "diagnostic": None,
                "failed_recipients": ["first@example.org", "Second@Example.org"],
            }
        },
    )

    decision = decide(report, CONTEXT)

    assert decision == Decision.bounce(["first@example.org", "second@example.org"])


def test_x_failed_recipients_makes_a_bounce_of_its_addresses() -> None:
    report = message(
        sender="mailer@mx.example.org",
        subject="Mail delivery failed: returning message to sender",
        body="A message that you sent could not be delivered.",
        headers={"X-Failed-Recipients": "gone@example.org, other@example.org"},
    )
    assert decide(report, CONTEXT) == Decision.bounce(["gone@example.org", "other@example.org"])


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Undelivered Mail Returned to Sender",
            "<gone@example.org>: host mx said: 550 unknown user",
        ),
        (
            "Delivery Status Notification (Failure)",
            "Recipient address: gone@example.org\nReason: 550",
        ),
        ("系统退信", "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1"),
    ],
)
def test_reports_without_a_machine_part_still_name_the_address(subject: str, body: str) -> None:
    decision = decide(message(sender="mailer@mx.example.org", subject=subject, body=body), CONTEXT)
    assert decision == Decision.bounce(["gone@example.org"])


def test_a_delayed_delivery_is_not_a_failure() -> None:
    report = message(
        sender="MAILER-DAEMON@mx.example.org",
        subject="Delivery Status Notification (Delay)",
        body="Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.7",
    )
    decision = decide(report, CONTEXT)
    assert (decision.kind, decision.reason) == (DecisionKind.ignore, IgnoreReason.delivery_delayed)


def test_a_bounce_without_a_recipient_is_still_a_bounce() -> None:
    decision = decide(message(sender="MAILER-DAEMON@mx.example.org", body="sorry"), CONTEXT)
    assert decision.kind is DecisionKind.bounce
    assert decision.failing_address is None


# --- subjects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: 打印机", "打印机"),
        ("RE: Re: re:  打印机", "打印机"),
        ("回复: 答复：转发: 发票", "发票"),
        ("AW: WG: Rechnung", "Rechnung"),
        ("Fwd: FW: Re[2]: VPN   down", "VPN down"),
        ("Re (3): VPN", "VPN"),
        ("Regarding the invoice", "Regarding the invoice"),
        ("Re:", ""),
        ("[TK-000123] Re: VPN", "[TK-000123] Re: VPN"),
    ],
)
def test_normalise_subject_strips_reply_and_forward_prefixes(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


@given(st.text(max_size=80))
def test_normalise_subject_is_idempotent(subject: str) -> None:
    once = normalise_subject(subject)
    assert normalise_subject(once) == once


@given(st.text(max_size=60), st.sampled_from(["Re: ", "RE:", "回复：", "Fwd: ", "AW: ", "转发: "]))
def test_a_prefix_does_not_change_the_conversation(subject: str, prefix: str) -> None:
    assert subject_key(prefix + subject) == subject_key(subject)


@given(st.text(max_size=400))
def test_subject_key_is_trimmed_and_bounded(subject: str) -> None:
    key = subject_key(subject)
    assert len(key) <= 300
    assert key == key.strip()


def test_subject_key_ignores_case() -> None:
    assert subject_key("RE: VPN Down") == subject_key("vpn down")


@pytest.mark.parametrize("channel", [Channel.web, Channel.portal, Channel.api, Channel.wechat])
def test_people_writing_through_forms_and_apps_are_never_taken_for_machines(
    channel: Channel,
) -> None:
    # An out-of-office-looking subject from a noreply@ address, with a bulk header: on email
    # that is noise, but through a form or an app it is a person typing.
    typed = dataclasses.replace(
        message(
            sender="noreply@example.org",
            subject="Automatic reply: 打印机坏了",
            headers={"Precedence": "bulk"},
        ),
        channel=channel,
    )
    assert decide(typed, CONTEXT) == Decision.take()
    assert decide(dataclasses.replace(typed, channel=Channel.email), CONTEXT).kind is not (
        DecisionKind.take
    )
