"""Version tokens of the configuration that per-process caches are built from.

One row per configuration area (``sla``: policies, calendars and their days; ``routing``: the
routing rules). Every change to an area writes a new random token into its row, in the same
transaction as the change (:func:`bump`). A transaction reads all tokens in one small query, once
(:func:`version_of`), and a cache (``closeloop.kit.versioned_cache``) rebuilds its value only
when the token differs from the one it was built at.

Why a random token and not a counter: a counter can go back (a transaction that bumped it rolls
back) and then reach the same number again with other contents; a cache built inside the rolled
back transaction would then be taken for the committed configuration. A random token never
repeats.

A transaction that changed an area (bumped its token) does not use the process's cache for it
(:func:`changed_here`): its own uncommitted configuration is read afresh.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.db.base import Base
from closeloop.db.session import UnitOfWork

SLA = "sla"
ROUTING = "routing"
AREAS = (SLA, ROUTING)
_READ_KEY = "config_versions"
_CHANGED_KEY = "config_versions.changed"


class ConfigVersion(Base):
    """The version token of one configuration area."""

    __tablename__ = "config_versions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime]


def new_token() -> str:
    return uuid.uuid4().hex


def database_key(uow: UnitOfWork) -> str:
    """Which database the unit of work talks to (a process may talk to several)."""
    return uow.session.get_bind().engine.url.render_as_string(hide_password=True)


def version_of(uow: UnitOfWork, area: str) -> str | None:
    """The area's token as this transaction sees it (all areas are read in one query, once per
    transaction); None when the area has no row or this transaction changed it."""
    if area in uow.session.info.get(_CHANGED_KEY, ()):
        return None
    versions: dict[str, str] | None = uow.session.info.get(_READ_KEY)
    if versions is None:
        rows = uow.session.execute(select(ConfigVersion.name, ConfigVersion.version)).all()
        versions = {str(name): str(version) for name, version in rows}
        uow.session.info[_READ_KEY] = versions
        # The next transaction of this unit of work reads them again.
        uow.after_commit(lambda: uow.session.info.pop(_READ_KEY, None))
    return versions.get(area)


def changed_here(uow: UnitOfWork, area: str) -> bool:
    return area in uow.session.info.get(_CHANGED_KEY, ())


def bump(uow: UnitOfWork, area: str) -> None:
    """Give the area a new token, in the caller's transaction (call it with every change to the
    area's configuration). Until this transaction ends, it reads the area's configuration from
    the database, not from a process cache."""
    now = uow.clock.now()
    token = new_token()
    result = uow.session.execute(
        update(ConfigVersion)
        .where(ConfigVersion.name == area)
        .values(version=token, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        uow.session.add(ConfigVersion(name=area, version=token, changed_at=now))
        uow.session.flush()
    changed = uow.session.info.get(_CHANGED_KEY, frozenset())
    if area not in changed:
        # A new set (not changed in place): a savepoint that rolls back restores the old one.
        uow.session.info[_CHANGED_KEY] = frozenset({*changed, area})
        uow.after_commit(lambda: uow.session.info.pop(_CHANGED_KEY, None))
