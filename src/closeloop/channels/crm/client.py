"""The HTTP GET to the organisation's CRM. Run outside any transaction (a job's ``perform``
step, or the admin's test lookup after the settings were read)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """Everything the GET needs; the token lives only in memory."""

    url: str
    token: str | None
    timeout_seconds: float

    def __repr__(self) -> str:  # never the token in a log line or a traceback
        return f"LookupRequest(url={self.url!r}, timeout_seconds={self.timeout_seconds!r})"


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """The CRM answered: ``document`` is its JSON (None for 404: the CRM does not know them)."""

    status_code: int
    document: Any


@dataclass(frozen=True, slots=True)
class LookupFailure:
    """The CRM could not be asked or answered badly. ``reason`` names no person: it is logged
    and stored with the job."""

    reason: str


def fetch(
    request: LookupRequest, *, client: httpx.Client | None = None
) -> LookupAnswer | LookupFailure:
    """GET the lookup address (no redirects followed: the administrator's URL is the only place
    asked). Never raises: anything that goes wrong is a ``LookupFailure``."""
    headers = {"Accept": "application/json", "User-Agent": "closeloop-crm-lookup"}
    if request.token:
        headers["Authorization"] = f"Bearer {request.token}"
    own = client is None
    http = client or httpx.Client(timeout=request.timeout_seconds, follow_redirects=False)
    try:
        with http.stream(
            "GET", request.url, headers=headers, timeout=request.timeout_seconds
        ) as response:
            status_code = response.status_code
            content = _read_capped(response) if status_code < 400 else b""
    except httpx.TimeoutException:
        return LookupFailure(reason=f"timed out after {request.timeout_seconds:g} s")
    except httpx.HTTPError as error:
        return LookupFailure(reason=f"could not connect ({type(error).__name__})")
    except (httpx.InvalidURL, ValueError) as error:
        # A value put into the address made it unusable (a host label too long, …).
        return LookupFailure(reason=f"the address is not a valid URL ({type(error).__name__})")
    finally:
        if own:
            http.close()
    if status_code == 404:
        return LookupAnswer(status_code=404, document=None)
    if status_code >= 400:
        return LookupFailure(reason=f"the CRM answered HTTP {status_code}")
    if content is None:
        return LookupFailure(reason="the answer is larger than 1 MiB")
    try:
        document = json.loads(content)
    except ValueError:
        return LookupFailure(reason="the answer is not JSON")
    return LookupAnswer(status_code=status_code, document=document)


def _read_capped(response: httpx.Response) -> bytes | None:
    """The body, or None once it passes :data:`MAX_ANSWER_BYTES` (read no further: a CRM
    answering without end must not fill the worker's memory)."""
    received = bytearray()
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) > MAX_ANSWER_BYTES:
            return None
    return bytes(received)
