"""The WeChat channel's rules: the 48-hour window, the replay window, texts and names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from closeloop.channels.wechat.domain import (
    EncryptionMode,
    event_external_id,
    is_fresh,
    location_text,
    media_filename,
    shorten,
    token_is_usable,
    window_is_open,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "open_"),
    [
        pytest.param(None, False, id="never_case"),
        pytest.param(NOW - timedelta(hours=47, minutes=59), True, id="inside_case"),
        pytest.param(NOW - timedelta(hours=48), False, id="exactly_48h_case"),
        pytest.param(NOW - timedelta(days=3), False, id="outside_case"),
    ],
)
def test_service_window(last: datetime | None, open_: bool) -> None:
    assert window_is_open(last, NOW) is open_


def test_replay_window_is_five_minutes_either_way() -> None:
    now = int(NOW.timestamp())
    assert is_fresh(now, NOW)
    assert is_fresh(now - 300, NOW)
    assert is_fresh(now + 300, NOW)
    assert not is_fresh(now - 301, NOW)
    assert not is_fresh(now + 301, NOW)


def test_token_is_refreshed_five_minutes_early() -> None:
    assert not token_is_usable(None, NOW)
    assert token_is_usable(NOW + timedelta(minutes=6), NOW)
    assert not token_is_usable(NOW + timedelta(minutes=5), NOW)


def test_encryption_modes() -> None:
    assert not EncryptionMode.plain.needs_aes_key
    assert EncryptionMode.safe.needs_aes_key
    assert EncryptionMode.compatible.needs_aes_key


def test_texts() -> None:
    assert location_text("人民广场", "31.23", "121.47") == "📍 人民广场 (31.23, 121.47)"
    assert location_text(" ", "31.23", "121.47") == "📍 (31.23, 121.47)"
    assert event_external_id("oABC", 1795572000, "subscribe") == "oABC:1795572000:subscribe"
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…"


def test_media_filenames() -> None:
    assert media_filename("image", "Q3au/../x", "image/jpeg") == "wechat-image-Q3aux.jpg"
    assert media_filename("voice", "m1", "application/octet-stream", "AMR") == "wechat-voice-m1.amr"
    assert media_filename("video", "v1", "video/mp4; codecs=x") == "wechat-video-v1.mp4"
    assert media_filename("image", "///", "text/plain") == "wechat-image-media"
