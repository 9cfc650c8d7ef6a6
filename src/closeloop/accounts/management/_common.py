"""Steps shared by the account management use cases."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import CustomerTier, Principal
from closeloop.accounts.errors import (
    InvalidPageCursor,
    InvalidTimeZone,
    UnknownTier,
    UnsupportedLocale,
)
from closeloop.accounts.management.domain import is_supported_locale, is_valid_time_zone
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.i18n import SUPPORTED_LOCALES
from closeloop.kit.pagination import MAX_PAGE_SIZE, InvalidCursor, decode_cursor, encode_cursor


def plain(value: Any) -> Any:
    """What the audit trail stores: enums as their values."""
    return value.value if isinstance(value, enum.Enum) else value


def apply(target: object, values: Mapping[str, Any]) -> list[Change]:
    """Set each attribute that differs; return one ``Change`` (old → new) per changed field."""
    changes: list[Change] = []
    for name, value in values.items():
        new, old = plain(value), getattr(target, name)
        if old != new:
            changes.append(Change(name, old, new))
            setattr(target, name, new)
    return changes


def record(
    uow: UnitOfWork,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    actor: Principal,
    via: str,
    changes: list[Change] | None = None,
    new_entity: bool = False,
) -> None:
    audit.record(
        uow,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=accounts.actor_of(actor),
        via=via,
        changes=changes or [],
        new_entity=new_entity,
    )


def check_locale(locale: str | None) -> None:
    if locale is not None and not is_supported_locale(locale):
        raise UnsupportedLocale(value=locale, supported=", ".join(SUPPORTED_LOCALES))


def check_time_zone(time_zone: str | None) -> None:
    if time_zone is not None and not is_valid_time_zone(time_zone):
        raise InvalidTimeZone(value=time_zone)


def clean_tier(tier: str) -> str:
    value = plain(tier)
    if value not in {t.value for t in CustomerTier}:
        raise UnknownTier(value=value)
    return str(value)


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))


def name_cursor(cursor: str | None) -> tuple[str, int] | None:
    """The (name, id) a page sorted by name continues after."""
    if cursor is None:
        return None
    values = _decode(cursor)
    name, row_id = values.get("name"), values.get("id")
    if not isinstance(name, str) or not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidPageCursor()
    return name, row_id


def id_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    row_id = _decode(cursor).get("id")
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidPageCursor()
    return row_id


def next_name_cursor(rows: list[Any], more: bool) -> str | None:
    return encode_cursor({"name": rows[-1].name, "id": rows[-1].id}) if more else None


def next_id_cursor(rows: list[Any], more: bool) -> str | None:
    return encode_cursor({"id": rows[-1].id}) if more else None


def _decode(cursor: str) -> dict[str, Any]:
    try:
        return decode_cursor(cursor)
    except InvalidCursor as error:
        raise InvalidPageCursor() from error
