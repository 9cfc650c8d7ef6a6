"""How long the SLA scan takes to find the clocks whose next event has come, among 1,000,000.

    .venv/bin/python bench/sla_scan.py [--database sqlite|postgresql|both] [--clocks 1000000]

Builds its own database (SQLite: ``var/bench/sla/clocks-<n>.sqlite3``; PostgreSQL: the database
``closeloop_bench_sla``, dropped and recreated): the migrations, ``--clocks`` open tickets, and
one resolution clock each whose ``next_check_at`` is spread over the next 30 days (about 23 per
minute for a million; one in ten is paused, without a next check). Then it times
``sla.repository.due_ticket_ids`` — the scan's one query — as of one minute and one hour after
the start (about 23 and 1,400 clocks due; the scan takes at most 200 per job), 50 times each,
and prints the median, p95 and the query plan. Target: under 200 ms on both databases.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from closeloop.db import migrate
from closeloop.db.session import create_database_engine
from closeloop.sla import repository
from harness import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    percentile,
    postgres_url,
    recreate_postgres_database,
)

BASE = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SPREAD_SECONDS = 30 * 24 * 3600
RUNS = 50
TARGET_MS = 200.0

_SQLITE_FILL = """
INSERT INTO {table}
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
SELECT {select} FROM n
"""


def _fill_sqlite(engine: Engine, count: int) -> None:
    base = BASE.replace(tzinfo=None).isoformat(sep=" ")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, tier, is_company_admin, notes, created_at, "
                "updated_at) VALUES (1, 'Bench', 'standard', 0, '', :t, :t)"
            ),
            {"t": base},
        )
        connection.execute(
            text(
                _SQLITE_FILL.format(
                    table="tickets (id, subject, description, type, priority, status, channel, "
                    "requester_id, tags, custom_fields, created_at, updated_at, version)",
                    select="i, 'Ticket ' || i, '', 'fault', 'P3', 'open', 'email', 1, '[]', "
                    "'{}', :t, :t, 1",
                )
            ),
            {"count": count, "t": base},
        )
        connection.execute(
            text(
                _SQLITE_FILL.format(
                    table="ticket_sla_clocks (ticket_id, kind, cycle, target_minutes, "
                    "business_time, started_at, due_at, state, elapsed_seconds, paused_seconds, "
                    "next_check_at, ticket_created_at, ticket_priority, updated_at)",
                    select="i, 'resolution', 1, 1440, 1, :t, :t, "
                    "CASE WHEN i % 10 = 0 THEN 'paused' ELSE 'running' END, 0, 0, "
                    "CASE WHEN i % 10 = 0 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%f', :t, "
                    "'+' || ((i * 7919) % :spread) || ' seconds') END, :t, 'P3', :t",
                )
            ),
            {"count": count, "t": base, "spread": SPREAD_SECONDS},
        )
        connection.exec_driver_sql("ANALYZE")


def _fill_postgres(engine: Engine, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO customers (id, name, tier, is_company_admin, notes, created_at, "
                "updated_at) VALUES (1, 'Bench', 'standard', false, '', :t, :t)"
            ),
            {"t": BASE},
        )
        connection.execute(
            text(
                "INSERT INTO tickets (id, subject, description, type, priority, status, channel, "
                "requester_id, tags, custom_fields, created_at, updated_at, version) "
                "SELECT i, 'Ticket ' || i, '', 'fault', 'P3', 'open', 'email', 1, '[]', '{}', "
                ":t, :t, 1 FROM generate_series(1, :count) AS i"
            ),
            {"count": count, "t": BASE},
        )
        connection.execute(
            text(
                "INSERT INTO ticket_sla_clocks (ticket_id, kind, cycle, target_minutes, "
                "business_time, started_at, due_at, state, elapsed_seconds, paused_seconds, "
                "next_check_at, ticket_created_at, ticket_priority, updated_at) "
                "SELECT i, 'resolution', 1, 1440, true, :t, :t, "
                "CASE WHEN i % 10 = 0 THEN 'paused' ELSE 'running' END, 0, 0, "
                "CASE WHEN i % 10 = 0 THEN NULL "
                "ELSE CAST(:t AS timestamptz) "
                "+ ((CAST(i AS bigint) * 7919) % :spread) * interval '1 second' "
                "END, :t, 'P3', :t FROM generate_series(1, :count) AS i"
            ),
            {"count": count, "t": BASE, "spread": SPREAD_SECONDS},
        )
        connection.exec_driver_sql("ANALYZE")


def _prepare(database: str, count: int, server: str) -> Engine:
    if database == "sqlite":
        path = BENCH_DIR / "sla" / f"clocks-{count}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        recreate_postgres_database(server, "closeloop_bench_sla")
        url = postgres_url(server, "closeloop_bench_sla")
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    (_fill_sqlite if database == "sqlite" else _fill_postgres)(engine, count)
    print(f"  loaded {count:,} tickets and clocks in {time.perf_counter() - started:.1f} s")
    return engine


def _plan(engine: Engine, now: datetime) -> str:
    """The database's plan of the scan's query (it must be a range scan of the index)."""
    sqlite = engine.dialect.name == "sqlite"
    query = (
        "SELECT ticket_id, next_check_at FROM ticket_sla_clocks WHERE next_check_at <= :now "
        "ORDER BY next_check_at LIMIT 200"
    )
    bound: object = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if not sqlite:
        bound = now
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ANALYZE "
    with engine.connect() as connection:
        rows = connection.execute(text(prefix + query), {"now": bound}).all()
    return "\n".join("    " + " | ".join(str(column) for column in row) for row in rows)


def _measure(engine: Engine, minutes_after: int) -> tuple[float, float, int]:
    now = BASE + timedelta(minutes=minutes_after)
    timings: list[float] = []
    found = 0
    with Session(engine) as session:
        repository.due_ticket_ids(session, now, limit=200)  # warm the cache
        for _ in range(RUNS):
            started = time.perf_counter()
            found = len(repository.due_ticket_ids(session, now, limit=200)[0])
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return statistics.median(timings), percentile(timings, 0.95), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--postgres-server", default=DEFAULT_POSTGRES_URL)
    arguments = parser.parse_args()
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    for database in databases:
        print(f"{database}: {arguments.clocks:,} open tickets with a clock")
        engine = _prepare(database, arguments.clocks, arguments.postgres_server)
        for minutes_after in (1, 60):
            median, p95, found = _measure(engine, minutes_after)
            verdict = "ok" if p95 < TARGET_MS else "OVER TARGET"
            print(
                f"  due {minutes_after:>2} min after the start: {found:>3} tickets, "
                f"median {median:.2f} ms, p95 {p95:.2f} ms (target < {TARGET_MS:.0f} ms: {verdict})"
            )
        print("  plan:\n" + _plan(engine, BASE + timedelta(minutes=1)))
        engine.dispose()


if __name__ == "__main__":
    main()
