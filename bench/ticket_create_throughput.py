"""Tickets created per second through a real `closeloop serve`, next to its trivial endpoint.

For each database: prepare a fresh one (SQLite: var/bench/throughput/closeloop.sqlite3;
PostgreSQL: the dedicated database ``closeloop_bench``), migrate it, create an admin and an API
token with the `closeloop` command, start one `closeloop serve` process on a free port, and drive
it with N concurrent keep-alive clients (one thread and one httpx.Client each):

1. ``GET /healthz`` for S seconds: what the stack (uvicorn, FastAPI, the client) can do at all;
2. ``POST /api/v1/tickets`` for S seconds: validation, customer lookup, insert, tags, search
   index, audit trail, commit (the write path every channel uses).

It prints requests/s, p50/p95 latency of both, and the ratio tickets/s ÷ healthz/s (target
>= 0.3), then checks that every acknowledged ticket is in the database.

    .venv/bin/python bench/ticket_create_throughput.py --database both --seconds 10 --clients 4
"""

from __future__ import annotations

import argparse
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from closeloop.demo.content import TOPICS, fill, localised_slots, slot_values
from harness import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    ServerProcess,
    closeloop_env,
    percentile,
    recreate_postgres_database,
    run_closeloop,
)

TARGET_RATIO = 0.3
WARM_UP_SECONDS = 1.0
POSTGRES_DATABASE = "closeloop_bench"
ADMIN_EMAIL = "bench-admin@example.com"


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    # The first body of each unexpected answer, to say what went wrong.
    samples: dict[int, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


Request = Callable[[httpx.Client, random.Random], httpx.Response]


def drive(
    base_url: str,
    headers: dict[str, str],
    *,
    name: str,
    request: Request,
    expected_status: int,
    clients: int,
    seconds: float,
) -> Phase:
    """``clients`` threads send ``request`` back to back; only the measured window counts."""
    phase = Phase(name)
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    window: dict[str, float] = {}

    def client_loop(number: int) -> None:
        rng = random.Random(number)
        latencies: list[float] = []
        errors = 0
        statuses: dict[int, int] = {}
        samples: dict[int, str] = {}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
            request(client, rng)  # open the keep-alive connection before the clock starts
            ready.wait()
            while True:
                started = time.perf_counter()
                if started >= window["end"]:
                    break
                try:
                    response = request(client, rng)
                    status = response.status_code
                    body = response.text
                except httpx.HTTPError as error:
                    status, body = 0, repr(error)
                finished = time.perf_counter()
                if started < window["start"]:
                    continue
                statuses[status] = statuses.get(status, 0) + 1
                if status == expected_status:
                    latencies.append(finished - started)
                else:
                    errors += 1
                    samples.setdefault(status, body[:300])
        with lock:
            phase.latencies.extend(latencies)
            phase.errors += errors
            for status, count in statuses.items():
                phase.statuses[status] = phase.statuses.get(status, 0) + count
            for status, sample in samples.items():
                phase.samples.setdefault(status, sample)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["start"] = now + WARM_UP_SECONDS
    window["end"] = window["start"] + seconds
    ready.wait()
    for thread in threads:
        thread.join()
    phase.seconds = seconds
    return phase


def healthz(client: httpx.Client, _rng: random.Random) -> httpx.Response:
    return client.get("/healthz")


def ticket_body(rng: random.Random) -> dict[str, Any]:
    """A bilingual ticket like the channels bring in, from a pool of 200 requesters."""
    topic = rng.choice(TOPICS)
    locale = "zh_CN" if rng.random() < 0.7 else "en"
    values = localised_slots(slot_values(rng, created_month=11, company="Bench Ltd"), locale)
    script = topic.script(locale)
    scenario = rng.choice(topic.scenarios)
    requester = rng.randrange(200)
    return {
        "subject": fill(script.subjects[rng.choice(scenario.subjects)], values),
        "description": fill(script.descriptions[scenario.description], values),
        "type": topic.ticket_type.value,
        "priority": rng.choice(("P2", "P3", "P3", "P3", "P4")),
        "channel": "api",
        "tags": list(topic.tags[:2]),
        "requester": {"email": f"requester{requester}@bench.example", "name": f"客户 {requester}"},
    }


def create_ticket(client: httpx.Client, rng: random.Random) -> httpx.Response:
    return client.post("/api/v1/tickets", json=ticket_body(rng))


@dataclass(frozen=True)
class Backend:
    label: str
    data_dir: Path
    database_url: str


def prepare(database: str, postgres_server: str) -> Backend:
    data_dir = BENCH_DIR / "throughput" / database
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "sqlite":
        url = f"sqlite:///{data_dir / 'closeloop.sqlite3'}"
        return Backend("SQLite", data_dir, url)
    url = recreate_postgres_database(postgres_server, POSTGRES_DATABASE)
    return Backend(f"PostgreSQL (database {POSTGRES_DATABASE})", data_dir, url)


def stored_tickets(database_url: str) -> int:
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    finally:
        engine.dispose()


def print_phase(phase: Phase) -> None:
    print(
        f"  {phase.name:<22} {len(phase.latencies):>9,} {phase.errors:>7} {phase.rate:>9.1f} "
        f"{percentile(phase.latencies, 0.5) * 1000:>8.1f} "
        f"{percentile(phase.latencies, 0.95) * 1000:>8.1f}"
    )


def run(database: str, *, seconds: float, clients: int, postgres_server: str) -> float:
    backend = prepare(database, postgres_server)
    env = closeloop_env(backend.data_dir, backend.database_url)
    run_closeloop(env, backend.data_dir, "db", "upgrade")
    run_closeloop(
        env,
        backend.data_dir,
        "user",
        "create",
        "--email",
        ADMIN_EMAIL,
        "--name",
        "Bench Admin",
        "--role",
        "admin",
        "--password",
        "bench-password-1",
    )
    token = run_closeloop(env, backend.data_dir, "token", "create", "--email", ADMIN_EMAIL)
    headers = {"Authorization": f"Bearer {token.split()[-1]}"}
    server = ServerProcess(env, backend.data_dir)
    try:
        server.wait_until_healthy()
        print(
            f"\n== {backend.label}: 1 `closeloop serve` process, {clients} keep-alive clients, "
            f"{seconds:g} s per endpoint (after {WARM_UP_SECONDS:g} s warm-up)"
        )
        print(
            f"  {'endpoint':<22} {'requests':>9} {'errors':>7} {'req/s':>9} "
            f"{'p50 ms':>8} {'p95 ms':>8}"
        )
        trivial = drive(
            server.base_url,
            headers,
            name="GET /healthz",
            request=healthz,
            expected_status=200,
            clients=clients,
            seconds=seconds,
        )
        print_phase(trivial)
        created = drive(
            server.base_url,
            headers,
            name="POST /api/v1/tickets",
            request=create_ticket,
            expected_status=201,
            clients=clients,
            seconds=seconds,
        )
        print_phase(created)
    finally:
        server.stop()
    for phase in (trivial, created):
        unexpected = {s: n for s, n in phase.statuses.items() if n and s not in (200, 201)}
        if unexpected:
            print(f"  {phase.name}: unexpected answers {unexpected}")
            for status in unexpected:
                print(f"    {status}: {phase.samples.get(status, '')}")
    ratio = created.rate / trivial.rate if trivial.rate else float("nan")
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"  ratio tickets/s ÷ healthz/s = {ratio:.2f} (target >= {TARGET_RATIO}: {verdict})")
    # Every acknowledged ticket is stored; warm-up requests were acknowledged too.
    stored = stored_tickets(backend.database_url)
    print(f"  tickets in the database: {stored:,} (measured 201s: {len(created.latencies):,})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--postgres-server",
        default=DEFAULT_POSTGRES_URL,
        help="A database URL on the server where `closeloop_bench` is (re)created.",
    )
    arguments = parser.parse_args()
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
