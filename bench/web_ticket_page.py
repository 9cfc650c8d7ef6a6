"""Server-side latency of the agent's ticket page (``GET /agent/tickets/{id}``) on a large desk.

For each database: the cached desk of N tickets (see dataset.py; 1,000,000 by default), plus one
fresh ticket in a team of the regular agent with a conversation of ``--messages`` messages
(customer messages, public replies and internal notes, authored by the customer, the agent and a
colleague). Then the real application runs in-process (``fastapi.testclient.TestClient`` on
``create_app``, embedded worker off) with a cookie session for each of two agents, the
supervisor (sees every ticket) and the regular agent of two teams, and for each sends warm-up
requests, then ``--requests`` measured ones, printing p50/p95 of the time spent inside the
application (routing, session, the page's queries, rendering the templates), the median CPU time
of this process per request (client included: a figure that a busy machine inflates less than
the wall clock) and the SQL statements per request. Target: p95 < 100 ms.

    .venv/bin/python bench/web_ticket_page.py --database both --tickets 1000000
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import MessageKind
from closeloop.tickets.schemas import MessageCreate, TicketCreate
from closeloop.web.session import SESSION_COOKIE
from dataset import Dataset, load
from harness import BENCH_DIR, DEFAULT_POSTGRES_URL, percentile

with warnings.catch_warnings():  # Starlette's note about httpx inside its TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TARGET_MS = 100.0


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
    timings: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


def _principal(uow: UnitOfWork, email: str) -> Principal:
    agent = accounts.find_agent_by_email(uow, email)
    assert agent is not None, email
    principal = accounts.principal_for_agent_id(uow, agent.id)
    assert principal is not None
    return principal


def prepare(engine: Engine, dataset: Dataset, messages: int) -> tuple[int, dict[str, str]]:
    """A ticket of the agent's team with ``messages`` messages, and a session cookie for each
    benchmark agent."""
    with UnitOfWork(create_session_factory(engine)) as uow:
        supervisor = _principal(uow, dataset.supervisor_email)
        agent = _principal(uow, dataset.agent_email)
        customer = accounts.find_or_create_customer(
            uow,
            kind=IdentityKind.email,
            value="ticket-page@bench.example",
            name="页面 Bench",
            actor=SYSTEM,
            via="bench",
        )
        ticket = tickets.open_ticket(
            uow,
            data=TicketCreate(
                subject="打印机卡纸 printer jams on tray 2",
                description="The office printer jams every morning.\n打印机每天早上卡纸。",
                requester_id=customer.id,
                team_id=dataset.agent_team_ids[0],
                tags=["printer", "bench"],
            ),
            actor=SYSTEM,
            via="bench",
        )
        customer_side = accounts.principal_for_customer(customer)
        kinds = (MessageKind.customer_message, MessageKind.public_reply, MessageKind.internal_note)
        for index in range(messages):
            kind = kinds[index % 3]
            author = {0: customer_side, 1: agent, 2: supervisor}[index % 3]
            data = (
                MessageCreate(body=f"Still jamming ({index}).\n\n> earlier text\n> quoted")
                if kind is MessageKind.customer_message
                else MessageCreate(kind=kind, body=f"Answer {index}: try tray 1.\n-- \nSupport")
            )
            tickets.add_message(uow, ticket_id=ticket.id, data=data, actor=author, via="bench")
        cookies = {}
        for who, principal in (("supervisor (sees all)", supervisor), ("agent of 2 teams", agent)):
            cookie, _csrf = accounts.start_login_session(
                uow, principal=principal, lifetime=timedelta(hours=1)
            )
            cookies[who] = cookie
        uow.commit()
        return ticket.id, cookies


def measure(dataset: Dataset, *, requests: int, warm_up: int, messages: int) -> list[Result]:
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
    ticket_id, cookies = prepare(engine, dataset, messages)
    results: list[Result] = []
    with TestClient(timed) as client:
        for who, cookie in cookies.items():
            client.cookies.set(SESSION_COOKIE, cookie)
            result = Result(who)
            url = f"/agent/tickets/{ticket_id}"
            for _ in range(warm_up):
                warm = client.get(url)
                assert warm.status_code == 200, warm.text[:500]
            for _ in range(requests):
                statements[0] = 0
                cpu_started = time.process_time()
                response = client.get(url)
                result.cpu.append(time.process_time() - cpu_started)
                assert response.status_code == 200, response.text[:500]
                result.timings.append(timed.last_seconds)
                result.statements.append(statements[0])
            results.append(result)
    engine.dispose()
    return results


def report(dataset: Dataset, results: list[Result], messages: int) -> list[str]:
    load_note = "cached, reused" if dataset.reused else f"loaded in {dataset.load_seconds:.0f} s"
    print(f"\n== {dataset.label}: {dataset.tickets:,} tickets ({load_note})")
    print(f"  ticket page with {messages} messages")
    print(f"  {'principal':<22} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7} {'SQL/req':>7}  target")
    missed: list[str] = []
    for result in results:
        p50 = percentile(result.timings, 0.5) * 1000
        p95 = percentile(result.timings, 0.95) * 1000
        verdict = "ok" if p95 < TARGET_MS else "MISSED"
        per_request = sorted(set(result.statements))
        sql = str(per_request[0]) if len(per_request) == 1 else "/".join(map(str, per_request))
        cpu = percentile(result.cpu, 0.5) * 1000
        print(
            f"  {result.who:<22} {p50:>8.1f} {p95:>8.1f} {cpu:>7.1f} {sql:>7}  "
            f"p95<{TARGET_MS:.0f} {verdict}"
        )
        if verdict != "ok":
            missed.append(f"{dataset.label} {dataset.tickets:,}: {result.who}")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=20)
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
        results = measure(
            dataset,
            requests=arguments.requests,
            warm_up=arguments.warm_up,
            messages=arguments.messages,
        )
        missed += report(dataset, results, arguments.messages)
    if missed:
        print("targets missed:\n  " + "\n  ".join(missed))
    else:
        print("every target met")


if __name__ == "__main__":
    main()
