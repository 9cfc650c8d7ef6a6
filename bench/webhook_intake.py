"""Signed webhook messages taken per second through a real `closeloop serve`, next to its
trivial endpoint, and the cost of checking one signature.

For each database: a fresh one (SQLite: ``var/bench/webhook/sqlite/closeloop.sqlite3``;
PostgreSQL: the dedicated database ``closeloop_bench_webhook``), migrated, an admin and a token
made with the `closeloop` command, one `closeloop serve` process on a free port, a webhook source
added through the admin API (its secret comes back once). Then N keep-alive clients:

1. ``GET /healthz``: what the stack can do at all, then one phase of writes to warm up;
2. signed messages with new external ids (201: a ticket each, from 200 app users);
3. the same messages again (200 ``duplicate``: the idempotency path);
4. signed call records with new call ids (201: a phone ticket each, 200 callers by number).

It prints requests/s and p50/p95 of each, the ratio new messages/s ÷ healthz/s (target >= 0.3,
like ticket creation), and checks that every acknowledged ticket is in the database. First it
times ``signing.check_signature`` in-process (target: well under 0.1 ms).

    .venv/bin/python bench/webhook_intake.py --database both --seconds 10 --clients 4
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from closeloop.channels.webhook.signing import check_signature, signature_header
from harness import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    ServerProcess,
    closeloop_env,
    recreate_postgres_database,
    run_closeloop,
)
from ticket_create_throughput import WARM_UP_SECONDS, Phase, drive, healthz, print_phase

TARGET_RATIO = 0.3
POSTGRES_DATABASE = "closeloop_bench_webhook"
ADMIN_EMAIL = "bench-admin@example.com"
SLUG = "bench-app"


def signature_cost(rounds: int = 20_000) -> float:
    """Microseconds per check of a 1 KiB body against two secrets (a rotation under way)."""
    body = json.dumps({"body": "x" * 1000}).encode()
    now = int(time.time())
    header = signature_header("whsec_new", now, body)
    started = time.perf_counter()
    for _ in range(rounds):
        assert (
            check_signature(header, body, ["whsec_old", "whsec_new"], now=now, window_seconds=300)
            is None
        )
    return (time.perf_counter() - started) / rounds * 1e6


class Sender:
    """Signed requests with ids unique across the client threads (or replayed ones)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.sent: list[bytes] = []

    def _post(self, client: httpx.Client, body: bytes) -> httpx.Response:
        header = signature_header(self.secret, int(time.time()), body)
        return client.post(
            f"/api/v1/channels/webhook/{SLUG}",
            content=body,
            headers={"Content-Type": "application/json", "X-Closeloop-Signature": header},
        )

    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    def message(self, client: httpx.Client, rng: random.Random) -> httpx.Response:
        number, customer = self._next(), rng.randrange(200)
        body = json.dumps(
            {
                "external_id": f"msg-{number}",
                # App users by their id in the app: customers with an email address also get
                # an acknowledgement email, which the server's embedded worker sends meanwhile
                # (competing for SQLite's write lock), and that is not intake's cost.
                "customer": {"external_id": f"user-{customer}", "name": f"用户 {customer}"},
                "subject": "App 无法登录",
                "body": f"第 {number} 条：登录时提示密码错误，已重装仍然不行。",
            },
            ensure_ascii=False,
        ).encode()
        with self._lock:
            self.sent.append(body)
        return self._post(client, body)

    def replay(self, client: httpx.Client, rng: random.Random) -> httpx.Response:
        return self._post(client, rng.choice(self.sent))

    def call(self, client: httpx.Client, rng: random.Random) -> httpx.Response:
        number, caller = self._next(), rng.randrange(200)
        body = json.dumps(
            {
                "type": "call",
                "call_id": f"call-{number}",
                "caller": f"138 0013 {caller:04d}",
                "callee": "400-820-8820",
                "started_at": "2026-11-25T10:03:04+08:00",
                "duration_seconds": rng.randrange(30, 900),
                "agent_note": "客户反映无法登录。",
            },
            ensure_ascii=False,
        ).encode()
        return self._post(client, body)


def prepare(database: str, postgres_server: str) -> tuple[str, Path, str]:
    data_dir = BENCH_DIR / "webhook" / database
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "sqlite":
        return "SQLite", data_dir, f"sqlite:///{data_dir / 'closeloop.sqlite3'}"
    url = recreate_postgres_database(postgres_server, POSTGRES_DATABASE)
    return f"PostgreSQL (database {POSTGRES_DATABASE})", data_dir, url


def stored_tickets(database_url: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    finally:
        engine.dispose()


def run(database: str, *, seconds: float, clients: int, postgres_server: str) -> float:
    label, data_dir, url = prepare(database, postgres_server)
    env = closeloop_env(data_dir, url)
    run_closeloop(env, data_dir, "db", "upgrade")
    run_closeloop(
        env,
        data_dir,
        "user",
        "create",
        "--email",
        ADMIN_EMAIL,
        "--name",
        "Bench",
        "--role",
        "admin",
    )
    token = run_closeloop(env, data_dir, "token", "create", "--email", ADMIN_EMAIL).split()[-1]
    server = ServerProcess(env, data_dir)
    phases: list[Phase] = []
    try:
        server.wait_until_healthy()
        created = httpx.post(
            f"{server.base_url}/api/v1/channels/webhook-sources",
            json={"name": "Bench app", "slug": SLUG, "channel": "chat"},
            headers={"Authorization": f"Bearer {token}"},
        )
        created.raise_for_status()
        sender = Sender(created.json()["secret"])
        print(
            f"\n== {label}: 1 `closeloop serve` process, {clients} keep-alive clients, "
            f"{seconds:g} s per phase (after {WARM_UP_SECONDS:g} s warm-up)"
        )
        print(
            f"  {'phase':<22} {'requests':>9} {'errors':>7} {'req/s':>9} "
            f"{'p50 ms':>8} {'p95 ms':>8}"
        )
        for name, request, status in (
            ("GET /healthz", healthz, 200),
            # The first seconds of writes of a fresh server are slow (lazy loading, the
            # worker's first jobs): shown, not counted.
            ("warm-up writes (201)", sender.message, 201),
            ("new message (201)", sender.message, 201),
            ("duplicate (200)", sender.replay, 200),
            ("call record (201)", sender.call, 201),
        ):
            phase = drive(
                server.base_url,
                {},
                name=name,
                request=request,
                expected_status=status,
                clients=clients,
                seconds=seconds,
            )
            print_phase(phase)
            phases.append(phase)
    finally:
        server.stop()
    for phase in phases:
        if phase.errors:
            print(f"  {phase.name}: unexpected answers {phase.statuses} {phase.samples}")
    ratio = phases[2].rate / phases[0].rate if phases[0].rate else float("nan")
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"  ratio new messages/s ÷ healthz/s = {ratio:.2f} (target >= {TARGET_RATIO}: {verdict})")
    acknowledged = sum(phase.statuses.get(201, 0) for phase in phases)
    print(
        f"  tickets in the database: {stored_tickets(url):,} "
        f"(201s in the measured windows: {acknowledged:,}; warm-up requests add more)"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--postgres-server", default=DEFAULT_POSTGRES_URL)
    arguments = parser.parse_args()
    cost = signature_cost()
    print(f"check_signature (1 KiB body, 2 secrets): {cost:.1f} µs per request")
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    ratios = {
        database: run(
            database,
            seconds=arguments.seconds,
            clients=arguments.clients,
            postgres_server=arguments.postgres_server,
        )
        for database in databases
    }
    print("\nsummary: " + ", ".join(f"{db} ratio {r:.2f}" for db, r in ratios.items()))


if __name__ == "__main__":
    main()
