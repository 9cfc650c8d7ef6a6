"""The WeChat official account API over HTTP (httpx): access tokens, media, customer-service
messages. No database access: the jobs in ``tasks`` hand in what a call needs.

Every method raises :class:`~closeloop.channels.wechat.errors.WeChatApiFailure` on a transport
error, a non-2xx status or an ``errcode`` other than 0; ``errcode`` tells the caller whether a
fresh access token helps (40001, 42001) or retrying cannot (45015: outside the 48-hour window).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from closeloop.channels.wechat.domain import TOKEN_EXPIRED_CODES
from closeloop.channels.wechat.errors import WeChatApiFailure

USER_AGENT = "closeloop-wechat/1"
_FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)
ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Media:
    content: bytes
    content_type: str
    filename: str | None


class MediaTooLarge(WeChatApiFailure):
    pass


class WeChatApi:
    """One client per job run; use it as a context manager (it closes its connections)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    def __enter__(self) -> WeChatApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    # --- calls --------------------------------------------------------------------------------

    def fetch_token(self, *, app_id: str, app_secret: str, now: datetime) -> AccessToken:
        """``GET /cgi-bin/token``: a new access token (valid about two hours)."""
        answer = self._json(
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": app_id, "secret": app_secret},
        )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatApiFailure("the token answer has no access_token")
        expires_in = answer.get("expires_in", 7200)
        seconds = int(expires_in) if isinstance(expires_in, int | str) else 7200
        return AccessToken(value=token, expires_at=now + timedelta(seconds=seconds))

    def send_custom_message(self, *, access_token: str, body: dict[str, Any]) -> None:
        """``POST /cgi-bin/message/custom/send``: one customer-service message."""
        self._json(
            "POST",
            "/cgi-bin/message/custom/send",
            params={"access_token": access_token},
            content=json.dumps(body, ensure_ascii=False).encode(),
        )

    def upload_media(
        self,
        *,
        access_token: str,
        media_type: str,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> str:
        """``POST /cgi-bin/media/upload``: temporary media (kept 3 days); its ``media_id``."""
        answer = self._json(
            "POST",
            "/cgi-bin/media/upload",
            params={"access_token": access_token, "type": media_type},
            files={"media": (filename, content, content_type)},
        )
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatApiFailure("the upload answer has no media_id")
        return media_id

    def download_media(self, *, access_token: str, media_id: str, max_bytes: int) -> Media:
        """``GET /cgi-bin/media/get``: the bytes of a follower's image, voice or video.

        Videos are answered with ``{"video_url": …}``, which is then downloaded.
        """
        params = {"access_token": access_token, "media_id": media_id}
        media = self._download("/cgi-bin/media/get", params, max_bytes)
        if media.content_type.startswith(("application/json", "text/plain")):
            answer = _checked(_parse_json(media.content))
            url = answer.get("video_url")
            if not isinstance(url, str) or not url:
                raise WeChatApiFailure("the media answer has neither a file nor a video_url")
            media = self._download(url, {}, max_bytes)
        return media

    # --- plumbing -----------------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise WeChatApiFailure(f"WeChat API unreachable: {type(error).__name__}") from error
        if not response.is_success:
            raise WeChatApiFailure(f"WeChat API answered HTTP {response.status_code}")
        return _checked(_parse_json(response.content))

    def _download(self, url: str, params: dict[str, str], max_bytes: int) -> Media:
        try:
            with self._client.stream("GET", url, params=params) as response:
                if not response.is_success:
                    raise WeChatApiFailure(f"WeChat API answered HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaTooLarge(f"the media is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                content_type = response.headers.get("content-type", "application/octet-stream")
                disposition = response.headers.get("content-disposition", "")
        except httpx.HTTPError as error:
            raise WeChatApiFailure(f"WeChat API unreachable: {type(error).__name__}") from error
        found = _FILENAME.search(disposition)
        return Media(
            content=b"".join(chunks),
            content_type=content_type.split(";")[0].strip().lower(),
            filename=found.group(1).strip() if found else None,
        )


def _parse_json(content: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(content)
    except ValueError as error:
        raise WeChatApiFailure("WeChat API answered something that is not JSON") from error
    if not isinstance(answer, dict):
        raise WeChatApiFailure("WeChat API answered JSON that is not an object")
    return answer


def _checked(answer: dict[str, Any]) -> dict[str, Any]:
    code = answer.get("errcode", 0)
    if isinstance(code, int) and code != 0:
        message = str(answer.get("errmsg", ""))[:200]
        raise WeChatApiFailure(f"WeChat API error {code}: {message}", errcode=code)
    return answer


def with_token(
    api: WeChatApi,
    *,
    cached: str | None,
    app_id: str,
    app_secret: str,
    now: datetime,
    call: Callable[[str], ResultT],
) -> tuple[ResultT, AccessToken | None]:
    """Run ``call`` with the cached token, or a fresh one when there is none or WeChat says the
    cached one expired (40001/42001/40014): then once more. Returns the result and the new
    token to cache (None: the cached one still works)."""
    fresh: AccessToken | None = None
    token = cached
    if token is None:
        fresh = api.fetch_token(app_id=app_id, app_secret=app_secret, now=now)
        token = fresh.value
    try:
        return call(token), fresh
    except WeChatApiFailure as error:
        if error.errcode not in TOKEN_EXPIRED_CODES or fresh is not None:
            error.fresh_token = fresh
            raise
    fresh = api.fetch_token(app_id=app_id, app_secret=app_secret, now=now)
    try:
        return call(fresh.value), fresh
    except WeChatApiFailure as error:
        error.fresh_token = fresh
        raise
