"""What a job is and how its retries are spaced (pure: no database, no clock, no randomness)."""

from __future__ import annotations

import enum
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from closeloop.kit.logging import redact_text


class JobStatus(enum.StrEnum):
    """``queued`` → ``running`` → ``succeeded``; a failed attempt goes to ``failed`` (waiting for
    its retry at ``run_at``) or, after the last allowed attempt, to ``dead`` (a dead letter)."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    dead = "dead"


# Waiting jobs: claimed once their run_at is due.
WAITING_STATUSES = (JobStatus.queued, JobStatus.failed)
# What an administrator may send back to the queue.
RETRYABLE_STATUSES = (JobStatus.dead, JobStatus.failed)

TASK_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_ERROR_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 255
_LONGEST_EXPONENT = 64


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker holds the lease of: ``attempts`` already counts the current attempt."""

    id: int
    name: str
    payload: Mapping[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime

    @property
    def is_last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts


def is_task_name(name: str) -> bool:
    """``"<feature>.<verb>"``, lowercase, dotted: ``"sla.scan_due"``, ``"channels.email.poll"``."""
    return len(name) <= 100 and TASK_NAME.match(name) is not None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: ``base × factor^(attempt-1)``, capped, spread by ± ``jitter``.

    With the defaults the waits after attempts 1, 2, 3… are about 10 s, 20 s, 40 s… up to 1 h.
    The jitter keeps many jobs that failed together (a mail server down) from retrying together.
    """

    base: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.1

    def delay(self, attempt: int, random_fraction: float = 0.5) -> timedelta:
        """Wait after failed attempt number ``attempt`` (1 for the first);
        ``random_fraction`` in [0, 1) picks the point in the jitter band (0.5 is its middle)."""
        exponent = min(max(attempt, 1) - 1, _LONGEST_EXPONENT)
        cap = self.cap.total_seconds()
        seconds = min(cap, self.base.total_seconds() * self.factor**exponent)
        seconds += seconds * self.jitter * (2 * random_fraction - 1)
        return timedelta(seconds=max(0.0, min(cap, seconds)))


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@]+@")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(?P<name>password|passwd|pwd|secret|token|api[_-]?key|authorization)"
    r"(?P<separator>\s*[=:]\s*)(?:(?:bearer|basic)\s+)?[^\s;,&]+"
)
_BEARER = re.compile(r"(?i)\bbearer\s+\S+")
REDACTED = "[redacted]"


def describe_error(error: BaseException) -> str:
    """``"TypeName: message"`` for ``jobs.last_error``: credentials, emails and phone numbers
    removed, and at most :data:`MAX_ERROR_LENGTH` characters."""
    text = f"{type(error).__name__}: {error}".strip()
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)
    text = _SECRET_ASSIGNMENT.sub(rf"\g<name>\g<separator>{REDACTED}", text)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    text = redact_text(text)
    if len(text) > MAX_ERROR_LENGTH:
        text = text[: MAX_ERROR_LENGTH - 1] + "…"
    return text


def error_location(error: BaseException) -> str:
    """Where ``error`` was raised: ``"package/module.py:123 in function"``, for the logs.

    Logs carry this instead of a traceback: rendered tracebacks can show local variables, and
    the locals of a job are its payload.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    path = last.filename.replace("\\", "/")
    short = path.split("/site-packages/")[-1].split("/src/")[-1]
    return f"{short}:{last.lineno} in {last.name}"
