"""Rules of account management that need no database (pure)."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from zoneinfo import available_timezones

from closeloop.accounts.domain import Role
from closeloop.kit.i18n import SUPPORTED_LOCALES

SKILL_LEVEL_MIN = 1
SKILL_LEVEL_MAX = 5

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+[a-z][a-z0-9-]{{1,62}}$")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_time_zone(name: str) -> bool:
    """An IANA name such as ``Asia/Shanghai`` (what ``zoneinfo`` knows), never a file path."""
    return name in _time_zones()


def is_supported_locale(locale: str) -> bool:
    return locale in SUPPORTED_LOCALES


def is_valid_skill_level(level: int) -> bool:
    return SKILL_LEVEL_MIN <= level <= SKILL_LEVEL_MAX


def normalise_domain(value: str) -> str | None:
    """``Example.COM.`` → ``example.com``; internationalised names become punycode; ``None``
    when the value is not a domain name."""
    text = value.strip().lower().rstrip(".")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return text if _DOMAIN.match(text) else None


def leaves_no_admin(
    *,
    active_admin_ids: Collection[int],
    agent_id: int,
    role: Role,
    is_active: bool,
) -> bool:
    """Whether giving ``agent_id`` this role and active flag would leave nobody to administer
    the organisation."""
    if agent_id not in active_admin_ids or (role is Role.admin and is_active):
        return False
    return not (set(active_admin_ids) - {agent_id})
