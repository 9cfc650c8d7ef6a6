"""Server-side latency of the first page of ``GET /api/v1/tickets`` on a large desk.

For each database and size: bulk-load N tickets (or reuse the cached database, see dataset.py),
then call the real application in-process (``fastapi.testclient.TestClient`` on ``create_app``)
as two agents: a supervisor, who sees every ticket, and a regular agent of two teams (teams,
own assignments, followed tickets). For each of

  (a) no filter,  (b) ``status=open&team_id=X``,
  (c) ``q=`` a common word, a rare word (an order number), a Chinese word (打印机),

it sends warm-up requests, then 200 measured ones, and prints p50/p95 of the time spent inside
the application (an ASGI wrapper around it: routing, authentication, the query, serialising),
the SQL statements per request (a ``before_cursor_execute`` counter) and how many tickets match.
Targets: p95 < 50 ms for lists, < 150 ms with text search. ``--explain`` prints the query plans.

    .venv/bin/python bench/ticket_list_latency.py --database both --tickets 100000
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import Principal
from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.tickets import repository
from closeloop.tickets.domain import TicketQuery
from dataset import PASSWORD, Dataset, load
from harness import BENCH_DIR, DEFAULT_POSTGRES_URL, percentile

with warnings.catch_warnings():  # Starlette's note about httpx inside its TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LIST_TARGET_MS = 50.0
TEXT_TARGET_MS = 150.0


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


@dataclass(frozen=True)
class Case:
    label: str
    params: dict[str, Any]
    query: TicketQuery
    is_text: bool


@dataclass
class Result:
    case: Case
    who: str
    matches: int
    timings: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


def cases(dataset: Dataset) -> list[Case]:
    team = dataset.agent_team_ids[0]
    return [
        Case("no filter", {}, TicketQuery(), False),
        Case(
            f"status=open&team_id={team}",
            {"status": "open", "team_id": team},
            TicketQuery(statuses=("open",), team_ids=(team,)),
            False,
        ),
        Case(
            f"q={dataset.common_word} (common)",
            {"q": dataset.common_word},
            TicketQuery(text=dataset.common_word),
            True,
        ),
        Case(
            f"q={dataset.rare_word} (rare)",
            {"q": dataset.rare_word},
            TicketQuery(text=dataset.rare_word),
            True,
        ),
        Case(
            f"q={dataset.chinese_word} (Chinese)",
            {"q": dataset.chinese_word},
            TicketQuery(text=dataset.chinese_word),
            True,
        ),
    ]


def count_matches(engine: Engine, principal: Principal, query: TicketQuery) -> int:
    statement = repository.list_query(principal, query, engine.dialect.name)
    counted = select(func.count()).select_from(statement.limit(None).order_by(None).subquery())
    with engine.connect() as connection:
        return int(connection.execute(counted).scalar_one())


def explain(engine: Engine, principal: Principal, query: TicketQuery) -> str:
    statement = repository.list_query(principal, query, engine.dialect.name)
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    if engine.dialect.name == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
        params: Any = tuple(compiled.params[name] for name in compiled.positiontup or ())
    else:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
        params = compiled.params
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + compiled.string, params).all()
    if engine.dialect.name == "sqlite":
        return "\n".join(f"      {row[-1]}" for row in rows)
    return "\n".join(f"      {row[0]}" for row in rows)


def principals(engine: Engine, dataset: Dataset) -> dict[str, tuple[Principal, str]]:
    """Each benchmark identity's principal and a fresh API token."""
    found: dict[str, tuple[Principal, str]] = {}
    with UnitOfWork(create_session_factory(engine)) as uow:
        for who, email in (
            ("supervisor (sees all)", dataset.supervisor_email),
            ("agent of 2 teams", dataset.agent_email),
        ):
            agent = accounts.find_agent_by_email(uow, email)
            assert agent is not None, email
            principal = accounts.principal_for_agent_id(uow, agent.id)
            assert principal is not None
            _token, secret = accounts.create_api_token(
                uow, email=email, name="bench", actor=principal, via="bench"
            )
            found[who] = (principal, secret)
        uow.commit()
    return found


def measure(dataset: Dataset, *, requests: int, warm_up: int, show_plans: bool) -> list[Result]:
    engine = create_database_engine(dataset.url)
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
    results: list[Result] = []
    who_is_who = principals(engine, dataset)
    with TestClient(timed) as client:
        for who, (principal, secret) in who_is_who.items():
            headers = {"Authorization": f"Bearer {secret}"}
            for case in cases(dataset):
                result = Result(case, who, count_matches(engine, principal, case.query))
                for _ in range(warm_up):
                    warm = client.get("/api/v1/tickets", params=case.params, headers=headers)
                    assert warm.status_code == 200, warm.text
                for _ in range(requests):
                    statements[0] = 0
                    response = client.get("/api/v1/tickets", params=case.params, headers=headers)
                    assert response.status_code == 200, response.text
                    result.timings.append(timed.last_seconds)
                    result.statements.append(statements[0])
                results.append(result)
                if show_plans:
                    print(f"    plan: {who}, {case.label}")
                    print(explain(engine, principal, case.query))
    engine.dispose()
    return results


def report(dataset: Dataset, results: list[Result]) -> list[str]:
    load_note = "cached, reused" if dataset.reused else f"loaded in {dataset.load_seconds:.0f} s"
    print(f"\n== {dataset.label}: {dataset.tickets:,} tickets ({load_note})")
    print(
        f"  {'principal':<22} {'query':<34} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'SQL/req':>7}  target"
    )
    missed: list[str] = []
    for result in results:
        p50 = percentile(result.timings, 0.5) * 1000
        p95 = percentile(result.timings, 0.95) * 1000
        target = TEXT_TARGET_MS if result.case.is_text else LIST_TARGET_MS
        verdict = "ok" if p95 < target else "MISSED"
        per_request = sorted(set(result.statements))
        sql = str(per_request[0]) if len(per_request) == 1 else "/".join(map(str, per_request))
        print(
            f"  {result.who:<22} {result.case.label:<34} {result.matches:>8,} {p50:>8.1f} "
            f"{p95:>8.1f} {sql:>7}  p95<{target:.0f} {verdict}"
        )
        if verdict != "ok":
            missed.append(f"{dataset.label} {dataset.tickets:,}: {result.who}, {result.case.label}")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--tickets", default="100000", help="Comma-separated sizes, e.g. 100000,1000000."
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="Print each query's plan.")
    parser.add_argument(
        "--postgres-server",
        default=DEFAULT_POSTGRES_URL,
        help="A database URL on the server where closeloop_bench_<N> databases live.",
    )
    arguments = parser.parse_args()
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    sizes = [int(size.replace("_", "")) for size in arguments.tickets.split(",")]
    missed: list[str] = []
    for size in sizes:
        for database in databases:
            dataset = load(database, size, arguments.postgres_server)
            results = measure(
                dataset,
                requests=arguments.requests,
                warm_up=arguments.warm_up,
                show_plans=arguments.explain,
            )
            missed += report(dataset, results)
    print(f"\n(benchmark agents' password: {PASSWORD})")
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
    else:
        print("every target met")


if __name__ == "__main__":
    main()
