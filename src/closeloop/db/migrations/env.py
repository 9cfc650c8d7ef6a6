"""Alembic environment: one metadata, batch mode for SQLite, URL from settings or the caller."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from closeloop.db.all_models import metadata

# Tables that exist only on one dialect and are managed by hand in migrations.
UNMANAGED_TABLES = frozenset({"ticket_search"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name is not None:
        return name not in UNMANAGED_TABLES and not name.startswith("ticket_search_")
    table_name = getattr(getattr(obj, "table", None), "name", "")
    return not (type_ == "index" and table_name in UNMANAGED_TABLES)


def run_with_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
        return
    from closeloop.config import load_settings
    from closeloop.db.session import create_database_engine

    url = context.config.get_main_option("sqlalchemy.url") or load_settings().resolved_database_url
    engine = create_database_engine(url)
    with engine.connect() as new_connection:
        run_with_connection(new_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `closeloop db upgrade`")
run_migrations_online()
