"""Background jobs of the accounts feature ("accounts.<verb>")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from closeloop.accounts import service, throttle
from closeloop.db.session import UnitOfWork
from closeloop.jobs.registry import Handler
from closeloop.kit.logging import get_logger

# Longer than any throttle window in use (sign-in: 15 minutes; public forms: an hour or so).
RATE_LIMIT_RETENTION = timedelta(days=1)
log = get_logger(__name__)


def purge_expired(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Delete expired login sessions and rate-limit windows nobody counts in any more."""
    sessions = service.purge_expired_login_sessions(uow)
    windows = throttle.purge_before(uow, before=uow.clock.now() - RATE_LIMIT_RETENTION)
    log.info("accounts.purged", login_sessions=sessions, rate_limit_windows=windows)


TASKS: Mapping[str, Handler] = {"accounts.purge_expired": purge_expired}
