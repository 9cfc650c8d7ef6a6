"""Server-side latency of the customer pages: the public web form and the private link.

For each database: a fresh installation (``closeloop db upgrade``) with three custom fields,
then the real application in-process (``fastapi.testclient.TestClient`` on ``create_app``,
embedded worker off). Measured, each ``--requests`` times after a warm-up: showing the form
(``GET /forms/new``), submitting it (``POST /forms/new``: checks, the inbound pipeline, a new
customer and ticket, the commit; each with its own form id and address), the private link page
of a ticket with ``--messages`` messages (``GET /t/{number}/{token}``) and a reply through it
(``POST .../reply``, through the pipeline). Printed: p50/p95 of the time spent inside the
application and the SQL statements per request. Targets: pages p95 < 100 ms, posts p95 < 250 ms.

    .venv/bin/python bench/web_portal.py --database both
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Receive, Scope, Send

from closeloop.accounts.domain import SYSTEM
from closeloop.app import create_app
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.custom_fields.schemas import CustomFieldCreate
from closeloop.tickets.domain import TicketType
from harness import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    closeloop_env,
    percentile,
    recreate_postgres_database,
    run_closeloop,
)

with warnings.catch_warnings():  # Starlette's note about httpx inside its TestClient
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PAGE_TARGET_MS = 100.0
POST_TARGET_MS = 250.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')


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
    name: str
    target_ms: float
    timings: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)


def _fresh_database(database: str, postgres_server: str) -> tuple[str, Settings]:
    data_dir = BENCH_DIR / "portal" / database
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "sqlite":
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    else:
        url = recreate_postgres_database(postgres_server, "closeloop_bench_portal")
    run_closeloop(closeloop_env(data_dir, url), data_dir, "db", "upgrade")
    settings = Settings(
        environment="development",
        database_url=url,
        data_dir=data_dir / "data",
        secret_key="bench-secret-key-that-is-long-enough",  # noqa: S106
        embedded_worker=False,
        webform_tickets_per_ip=1_000_000,
        portal_replies_per_ticket=1_000_000,
    )
    return url, settings


def _custom_fields(engine: Engine) -> None:
    with UnitOfWork(create_session_factory(engine)) as uow:
        for key, field_type, options in (
            ("order_no", FieldType.text, []),
            ("amount", FieldType.number, []),
            ("region", FieldType.select, ["华东", "华南", "华北"]),
        ):
            custom_fields.create_custom_field(
                uow,
                data=CustomFieldCreate(
                    key=key,
                    label_en=key,
                    label_zh=key,
                    field_type=field_type,
                    ticket_type=TicketType.request,
                    options=options,
                ),
                actor=SYSTEM,
                via="bench",
            )
        uow.commit()


def _measure(
    result: Result,
    statements: list[int],
    timed: Timed,
    call: Callable[[int], Any],
    *,
    warm_up: int,
    requests: int,
) -> Result:
    for number in range(warm_up):
        call(-1 - number)
    for number in range(requests):
        statements[0] = 0
        call(number)
        result.timings.append(timed.last_seconds)
        result.statements.append(statements[0])
    return result


def run(database: str, *, requests: int, warm_up: int, messages: int, server: str) -> list[Result]:
    url, settings = _fresh_database(database, server)
    engine = create_database_engine(url)
    _custom_fields(engine)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[0] += 1

    timed = Timed(create_app(settings, engine=engine))
    results: list[Result] = []
    with TestClient(timed) as client:
        page = client.get("/forms/new?type=request")
        token = _CSRF.search(page.text)
        assert token is not None
        csrf = token.group(1)

        def show(_number: int) -> None:
            response = client.get("/forms/new?type=request")
            assert response.status_code == 200, response.text[:300]

        def submit(number: int) -> None:
            response = client.post(
                "/forms/new",
                data={
                    "csrf_token": csrf,
                    "form_id": str(uuid.uuid4()),
                    "name": "王芳",
                    "email": f"bench{number + 10_000}@example.cn",
                    "type": "request",
                    "subject": f"发票抬头需要修改 {number}",
                    "description": "请把发票抬头改为 上海某某有限公司。" * 5,
                    "cf_order_no": "SO-2026-001",
                    "cf_amount": "1,250.50",
                    "cf_region": "华东",
                },
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text[:300]

        results.append(
            _measure(
                Result("GET /forms/new", PAGE_TARGET_MS),
                statements,
                timed,
                show,
                warm_up=warm_up,
                requests=requests,
            )
        )
        results.append(
            _measure(
                Result("POST /forms/new", POST_TARGET_MS),
                statements,
                timed,
                submit,
                warm_up=warm_up,
                requests=requests,
            )
        )
        # One ticket with a conversation of ``messages`` customer messages, then its page.
        created = client.post(
            "/forms/new",
            data={
                "csrf_token": csrf,
                "form_id": str(uuid.uuid4()),
                "name": "李雷",
                "email": "li.lei@example.cn",
                "type": "inquiry",
                "subject": "VPN 无法连接",
                "description": "错误码 809",
            },
            follow_redirects=False,
        )
        link = "/t" + created.headers["location"].removeprefix("/forms/done")

        def reply(number: int) -> None:
            response = client.post(
                f"{link}/reply",
                data={"csrf_token": csrf, "form_id": str(uuid.uuid4()), "body": f"补充 {number}"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text[:300]

        for number in range(messages - 1):
            reply(1_000_000 + number)

        def view(_number: int) -> None:
            response = client.get(link)
            assert response.status_code == 200, response.text[:300]

        results.append(
            _measure(
                Result(f"GET /t/… ({messages} msgs)", PAGE_TARGET_MS),
                statements,
                timed,
                view,
                warm_up=warm_up,
                requests=requests,
            )
        )
        results.append(
            _measure(
                Result("POST /t/…/reply", POST_TARGET_MS),
                statements,
                timed,
                reply,
                warm_up=warm_up,
                requests=requests,
            )
        )
    engine.dispose()
    return results


def report(database: str, results: list[Result]) -> list[str]:
    print(f"\n== {database}")
    print(f"  {'request':<26} {'p50 ms':>8} {'p95 ms':>8} {'SQL/req':>9}  target")
    missed: list[str] = []
    for result in results:
        p50 = percentile(result.timings, 0.5) * 1000
        p95 = percentile(result.timings, 0.95) * 1000
        verdict = "ok" if p95 < result.target_ms else "MISSED"
        counts = sorted(set(result.statements))
        sql = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        target = f"p95<{result.target_ms:.0f}"
        print(f"  {result.name:<26} {p50:>8.1f} {p95:>8.1f} {sql:>9}  {target} {verdict}")
        if verdict != "ok":
            missed.append(f"{database}: {result.name}")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--postgres-server", default=DEFAULT_POSTGRES_URL)
    arguments = parser.parse_args()
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    missed: list[str] = []
    for database in databases:
        results = run(
            database,
            requests=arguments.requests,
            warm_up=arguments.warm_up,
            messages=arguments.messages,
            server=arguments.postgres_server,
        )
        missed += report(database, results)
    if missed:
        print("\nMISSED: " + "; ".join(missed))


if __name__ == "__main__":
    main()
