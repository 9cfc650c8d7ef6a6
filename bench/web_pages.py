"""Server-side latency of the agent workspace's pages on a large desk, and what a first visit
downloads.

The ticket list (``/agent/views/<view>``, ``/agent/tickets``): for each database, the cached
desk of N tickets (see dataset.py; 1,000,000 by default). Its open tickets get an SLA summary
once (due instants from a day overdue to three days ahead, so the "SLA at risk" and "Overdue"
views have tickets; pending ones paused), marked in ``bench_web_pages`` so later runs reuse it.
Then the real application runs in-process (``fastapi.testclient.TestClient`` on
``create_app``, embedded worker off) with a cookie session for each of two agents, the
supervisor (sees every ticket) and the regular agent of two teams, and for each view sends
warm-up requests, then ``--requests`` measured ones, and prints p50/p95 of the time spent inside
the application (routing, session, the page of 50 tickets, the names, the side navigation with
every view's count, rendering), the median CPU time the process spent per request (the same
work without the waits, a figure that a busy machine inflates less) and the SQL statements per
page. Target: p95 < 100 ms.

Then the weight of a first visit: the list page and every stylesheet and script it references,
each gzip-compressed (level 6, as a reverse proxy would), summed. Target: < 300 KB.

    .venv/bin/python bench/web_pages.py --database both --tickets 1000000
"""

from __future__ import annotations

import argparse
import gzip
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, text
from starlette.types import ASGIApp, Receive, Scope, Send

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.web.session import SESSION_COOKIE
from dataset import Dataset, load
from harness import BENCH_DIR, DEFAULT_POSTGRES_URL, percentile

with warnings.catch_warnings():  # Starlette's note about httpx inside its TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TARGET_MS = 100.0
TARGET_FIRST_VISIT_BYTES = 300 * 1024
SLA_MARK = 1
SUPERVISOR = "supervisor (sees all)"
AGENT = "agent of 2 teams"
CASES: dict[str, tuple[str, ...]] = {
    SUPERVISOR: (
        "/agent/views/all_open",
        "/agent/views/sla_risk",
        "/agent/views/overdue",
        "/agent/views/recently_resolved",
        "/agent/tickets",
        "/agent/tickets?q=vpn",
        "/agent/views/all_open?sort=priority",
    ),
    AGENT: (
        "/agent/views/mine",
        "/agent/views/unassigned",
        "/agent/views/pending",
        "/agent/views/overdue",
        "/agent/tickets",
        "/agent/tickets?q=vpn",
    ),
}
_ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')


class Timed:
    """Wraps the ASGI app and records how long each HTTP request spent inside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_seconds = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.last_seconds = time.perf_counter() - started


@dataclass
class Result:
    who: str
    path: str
    rows: int = 0
    timings: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


def give_open_tickets_sla(engine: Engine, now: datetime) -> None:
    """An SLA summary on every open ticket (once per database)."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_web_pages (sla INTEGER)")
        if connection.execute(text("SELECT sla FROM bench_web_pages")).first() is not None:
            return
        ids = connection.execute(
            text(
                "SELECT id, status FROM tickets "
                "WHERE status IN ('new', 'open', 'in_progress', 'pending')"
            )
        ).all()
        updates: list[dict[str, Any]] = []
        for ticket_id, status in ids:
            due = now + timedelta(hours=(ticket_id * 7919) % 96 - 24)
            if status == "pending":
                state = "paused"
            elif due < now:
                state = "breached"
            elif due < now + timedelta(hours=2):
                state = "warning"
            else:
                state = "running"
            updates.append({"id": ticket_id, "due": due, "state": state})
        for start in range(0, len(updates), 5000):
            connection.execute(
                text("UPDATE tickets SET sla_due_at = :due, sla_state = :state WHERE id = :id"),
                updates[start : start + 5000],
            )
        connection.execute(
            text("INSERT INTO bench_web_pages (sla) VALUES (:mark)"), {"mark": SLA_MARK}
        )
    if engine.dialect.name == "postgresql":
        # VACUUM too: the updated rows left dead index entries that every scan would step over.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) tickets")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE tickets")


def _principal(uow: UnitOfWork, email: str) -> Principal:
    agent = accounts.find_agent_by_email(uow, email)
    assert agent is not None, email
    principal = accounts.principal_for_agent_id(uow, agent.id)
    assert principal is not None
    return principal


def sessions(engine: Engine, dataset: Dataset) -> dict[str, str]:
    with UnitOfWork(create_session_factory(engine)) as uow:
        cookies = {}
        for who, email in ((SUPERVISOR, dataset.supervisor_email), (AGENT, dataset.agent_email)):
            cookie, _csrf = accounts.start_login_session(
                uow, principal=_principal(uow, email), lifetime=timedelta(hours=1)
            )
            cookies[who] = cookie
        uow.commit()
    return cookies


def first_visit(client: TestClient, path: str) -> tuple[int, int, list[tuple[str, int, int]]]:
    """(raw bytes, gzip bytes, per file) of the page and its stylesheets and scripts."""
    page = client.get(path)
    files = [(path, page.content)]
    for asset in dict.fromkeys(_ASSET.findall(page.text)):
        response = client.get(asset)
        assert response.status_code == 200, asset
        files.append((asset, response.content))
    sizes = [(name, len(body), len(gzip.compress(body, compresslevel=6))) for name, body in files]
    return sum(s[1] for s in sizes), sum(s[2] for s in sizes), sizes


def measure(
    dataset: Dataset, *, requests: int, warm_up: int
) -> tuple[list[Result], tuple[int, int, list[tuple[str, int, int]]]]:
    engine = create_database_engine(dataset.url)
    give_open_tickets_sla(engine, datetime.now(UTC))
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[0] += 1

    settings = Settings(
        environment="development",
        database_url=dataset.url,
        data_dir=BENCH_DIR / "list" / "data",
        secret_key="bench-secret-key-that-is-long-enough",  # noqa: S106
        embedded_worker=False,
    )
    timed = Timed(create_app(settings, engine=engine))
    cookies = sessions(engine, dataset)
    results: list[Result] = []
    with TestClient(timed) as client:
        for who, paths in CASES.items():
            client.cookies.set(SESSION_COOKIE, cookies[who])
            for path in paths:
                result = Result(who, path)
                for _ in range(warm_up):
                    warm = client.get(path)
                    assert warm.status_code == 200, warm.text[:500]
                for _ in range(requests):
                    statements[0] = 0
                    cpu = time.process_time()
                    response = client.get(path)
                    result.cpu.append(time.process_time() - cpu)
                    assert response.status_code == 200, response.text[:500]
                    result.timings.append(timed.last_seconds)
                    result.statements.append(statements[0])
                result.rows = response.text.count("<tr data-row=")
                results.append(result)
        client.cookies.set(SESSION_COOKIE, cookies[AGENT])
        weight = first_visit(client, "/agent/views/mine")
    engine.dispose()
    return results, weight


def report(
    dataset: Dataset,
    results: list[Result],
    weight: tuple[int, int, list[tuple[str, int, int]]],
) -> list[str]:
    load_note = "cached, reused" if dataset.reused else f"loaded in {dataset.load_seconds:.0f} s"
    print(f"\n== {dataset.label}: {dataset.tickets:,} tickets ({load_note})")
    print(
        f"  {'principal':<22} {'page':<38} {'rows':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'CPU ms':>7} {'SQL/page':>8}  target"
    )
    missed: list[str] = []
    for result in results:
        p50 = percentile(result.timings, 0.5) * 1000
        p95 = percentile(result.timings, 0.95) * 1000
        verdict = "ok" if p95 < TARGET_MS else "MISSED"
        counts = sorted(set(result.statements))
        sql = str(counts[0]) if len(counts) == 1 else "/".join(map(str, counts))
        cpu = percentile(result.cpu, 0.5) * 1000
        print(
            f"  {result.who:<22} {result.path:<38} {result.rows:>4} {p50:>8.1f} {p95:>8.1f} "
            f"{cpu:>7.1f} {sql:>8}  p95<{TARGET_MS:.0f} {verdict}"
        )
        if verdict != "ok":
            missed.append(f"{dataset.label}: {result.who}, {result.path}")
    raw, compressed, files = weight
    print("  first visit of /agent/views/mine (gzip level 6):")
    for name, size, packed in files:
        print(f"    {name:<40} {size:>9,} B  {packed:>8,} B gzip")
    verdict = "ok" if compressed < TARGET_FIRST_VISIT_BYTES else "MISSED"
    print(
        f"    {'total':<40} {raw:>9,} B  {compressed:>8,} B gzip  "
        f"< {TARGET_FIRST_VISIT_BYTES // 1024} KB {verdict}"
    )
    if verdict != "ok":
        missed.append(f"{dataset.label}: first visit {compressed:,} B")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument(
        "--postgres-server",
        default=DEFAULT_POSTGRES_URL,
        help="A database URL on the server where closeloop_bench_<N> databases live.",
    )
    arguments = parser.parse_args()
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    missed: list[str] = []
    for database in databases:
        dataset = load(database, arguments.tickets, arguments.postgres_server)
        results, weight = measure(dataset, requests=arguments.requests, warm_up=arguments.warm_up)
        missed += report(dataset, results, weight)
    if missed:
        print("\ntargets missed:\n  " + "\n  ".join(missed))
    else:
        print("\nevery target met")


if __name__ == "__main__":
    main()
