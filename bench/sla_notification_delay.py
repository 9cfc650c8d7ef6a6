"""Delay from an SLA instant (a warning, a breach) to its email reaching an SMTP server, through
a real `closeloop serve` with its embedded worker (or a `closeloop worker`), default polling.

    .venv/bin/python bench/sla_notification_delay.py [--database sqlite|postgresql|both]
                                                     [--tickets 50] [--spread 60]
                                                     [--worker embedded|separate]

For each database it prepares a fresh one (SQLite: ``var/bench/sla_delay/<db>/closeloop.sqlite3``;
PostgreSQL: the database ``closeloop_bench_sla_delay``, dropped and recreated), runs
`closeloop db upgrade`, creates an admin and an API token with the `closeloop` command, starts a
local aiosmtpd server as the mail sink and one `closeloop serve` process pointed at it
(``CLOSELOOP_SMTP_*``). Then, over the API, as an administrator would:

1. a ``24x7`` calendar in UTC (so nothing depends on the time of day) and a policy for P1
   tickets on it: first response within **1 business minute**, a ladder that tells the assignee
   at 75 % (45 s: ``sla.warning``) and at the breach (60 s: ``sla.breached``);
2. five agents with English as their language and an email address;
3. ``--tickets`` P1 tickets spread evenly over ``--spread`` seconds, each assigned to one of
   them, so the warnings and breaches fall due one after another, not all at once.

It reads each ticket's instants from ``GET /api/v1/tickets/{id}/sla`` (``warning_at`` and
``due_at`` of the first response), waits for the emails, and for each SLA email computes its
arrival time at the SMTP server minus the instant it is about (the SMTP server is local: arrival
is when the worker handed it over). It prints p50, p95 and max per event and overall, emails
missing, and PASS/MISS against the target: **p95 under 5 s**.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness import (
    BENCH_DIR,
    CLOSELOOP,
    DEFAULT_POSTGRES_URL,
    ServerProcess,
    closeloop_env,
    free_port,
    percentile,
    recreate_postgres_database,
    run_closeloop,
)

TARGET_P95_SECONDS = 5.0
POSTGRES_DATABASE = "closeloop_bench_sla_delay"
ADMIN_EMAIL = "bench-admin@example.com"
MAIL_FROM = "closeloop <sla-bench@closeloop.example>"
AGENTS = 5
TARGET_MINUTES = 1
GRACE_SECONDS = 30.0
SUBJECT = re.compile(r"^SLA (warning|breached): .* (TK-\d+)")


@dataclass
class Sink:
    """aiosmtpd handler: when each message arrived (wall clock) and what it was."""

    arrivals: list[tuple[float, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        arrived = time.time()
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        with self.lock:
            self.arrivals.append((arrived, content))
        return "250 Message accepted for delivery"

    def sla_emails(self) -> list[tuple[float, str, str]]:
        """(arrival, event, ticket number) of the SLA emails so far."""
        with self.lock:
            arrivals = list(self.arrivals)
        found: list[tuple[float, str, str]] = []
        for arrived, content in arrivals:
            subject = str(message_from_bytes(content, policy=policy.default)["Subject"])
            match = SUBJECT.match(subject)
            if match is not None:
                found.append((arrived, match[1], match[2]))
        return found


@dataclass(frozen=True)
class Due:
    """One ticket's instants (epoch seconds)."""

    number: str
    warning_at: float
    due_at: float


class WorkerProcess:
    """`closeloop worker` with its defaults (for ``--worker separate``)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.log_path = cwd / "worker.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CLOSELOOP), "worker"],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _check(response: httpx.Response, expected: int) -> Any:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} "
            f"{response.text[:500]}"
        )
    return response.json()


def set_up_policy(client: httpx.Client) -> None:
    calendar = _check(
        client.post(
            "/api/v1/sla/calendars",
            json={"name": "Bench 24x7", "preset": "24x7", "time_zone": "UTC", "is_default": True},
        ),
        201,
    )
    _check(
        client.post(
            "/api/v1/sla/policies",
            json={
                "name": f"Bench P1: respond in {TARGET_MINUTES} min",
                "calendar_id": calendar["id"],
                "conditions": {"priorities": ["P1"]},
                "targets": [
                    {"priority": "P1", "kind": "first_response", "minutes": TARGET_MINUTES}
                ],
                "escalations": [
                    {"kind": "first_response", "at_fraction": 0.75, "action": "notify_assignee"},
                    {
                        "kind": "first_response",
                        "after_breach_minutes": 0,
                        "action": "notify_assignee",
                    },
                ],
            },
        ),
        201,
    )


def create_agents(client: httpx.Client) -> list[int]:
    return [
        _check(
            client.post(
                "/api/v1/agents",
                json={
                    "name": f"On call {number}",
                    "email": f"oncall{number}@bench.example",
                    "locale": "en",
                    "time_zone": "UTC",
                },
            ),
            201,
        )["id"]
        for number in range(AGENTS)
    ]


def open_tickets(client: httpx.Client, agents: list[int], count: int, spread: float) -> list[int]:
    """``count`` P1 tickets, evenly over ``spread`` seconds; their ids."""
    ids: list[int] = []
    started = time.monotonic()
    for number in range(count):
        pause = started + number * spread / count - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        ticket = _check(
            client.post(
                "/api/v1/tickets",
                json={
                    "subject": f"Bench outage {number}",
                    "priority": "P1",
                    "assignee_id": agents[number % len(agents)],
                    "requester": {
                        "email": f"customer{number}@bench.example",
                        "name": f"Customer {number}",
                    },
                },
            ),
            201,
        )
        ids.append(ticket["id"])
    return ids


def read_instants(client: httpx.Client, ticket_ids: list[int]) -> dict[str, Due]:
    dues: dict[str, Due] = {}
    for ticket_id in ticket_ids:
        ticket = _check(client.get(f"/api/v1/tickets/{ticket_id}"), 200)
        clocks = _check(client.get(f"/api/v1/tickets/{ticket_id}/sla"), 200)["clocks"]
        [first] = [clock for clock in clocks if clock["kind"] == "first_response"]
        if first["target_minutes"] != TARGET_MINUTES or first["warning_at"] is None:
            raise RuntimeError(f"ticket {ticket_id} is not on the bench policy: {first}")
        number = ticket["number"]
        dues[number] = Due(number, _instant(first["warning_at"]), _instant(first["due_at"]))
    return dues


def summary(label: str, delays: list[float]) -> str:
    if not delays:
        return f"  {label:<9} no emails"
    return (
        f"  {label:<9} {len(delays):>4} emails  p50 {percentile(delays, 0.5):6.2f} s  "
        f"p95 {percentile(delays, 0.95):6.2f} s  max {max(delays):6.2f} s  "
        f"min {min(delays):6.2f} s"
    )


def run(database: str, *, tickets: int, spread: float, worker: str, postgres_server: str) -> bool:
    data_dir = BENCH_DIR / "sla_delay" / database
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "sqlite":
        url, label = f"sqlite:///{data_dir / 'closeloop.sqlite3'}", "SQLite"
    else:
        url = recreate_postgres_database(postgres_server, POSTGRES_DATABASE)
        label = f"PostgreSQL (database {POSTGRES_DATABASE})"
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = closeloop_env(data_dir, url) | {
        "CLOSELOOP_SMTP_HOST": "127.0.0.1",
        "CLOSELOOP_SMTP_PORT": str(smtp_port),
        "CLOSELOOP_SMTP_STARTTLS": "false",
        "CLOSELOOP_MAIL_FROM": MAIL_FROM,
    }
    run_closeloop(env, data_dir, "db", "upgrade")
    run_closeloop(
        env,
        data_dir,
        *("user", "create", "--email", ADMIN_EMAIL, "--name", "Bench Admin"),
        *("--role", "admin", "--password", "bench-password-1"),
    )
    token = run_closeloop(env, data_dir, "token", "create", "--email", ADMIN_EMAIL).split()[-1]
    separate = worker == "separate"
    server = ServerProcess(env | {"CLOSELOOP_EMBEDDED_WORKER": str(not separate).lower()}, data_dir)
    worker_process = WorkerProcess(env, data_dir) if separate else None
    try:
        server.wait_until_healthy()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0) as client:
            set_up_policy(client)
            agents = create_agents(client)
            print(
                f"\n== {label}: `closeloop serve` "
                + ("+ `closeloop worker`" if separate else "with its embedded worker")
                + f" (default polling); {tickets} P1 tickets over {spread:g} s, first response "
                f"{TARGET_MINUTES} min on 24x7: warnings at +45 s, breaches at +60 s"
            )
            ticket_ids = open_tickets(client, agents, tickets, spread)
            dues = read_instants(client, ticket_ids)
        deadline = max(due.due_at for due in dues.values()) + GRACE_SECONDS
        while len(sink.sla_emails()) < 2 * len(dues) and time.time() < deadline:
            time.sleep(0.5)
    finally:
        if worker_process is not None:
            worker_process.stop()
        server.stop()
        controller.stop()

    delays: dict[str, list[float]] = {"warning": [], "breached": []}
    seen: set[tuple[str, str]] = set()
    for arrived, event, number in sink.sla_emails():
        due = dues.get(number)
        if due is None:
            continue
        seen.add((event, number))
        instant = due.warning_at if event == "warning" else due.due_at
        delays[event].append(arrived - instant)
    every = delays["warning"] + delays["breached"]
    missing = 2 * len(dues) - len(seen)
    print(summary("warning", delays["warning"]))
    print(summary("breached", delays["breached"]))
    print(summary("all", every))
    p95 = percentile(every, 0.95)
    passed = missing == 0 and p95 < TARGET_P95_SECONDS
    print(
        f"  missing {missing}; target p95 < {TARGET_P95_SECONDS:g} s: "
        f"{'PASS' if passed else 'MISS'} (p95 {p95:.2f} s)"
    )
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--spread", type=float, default=60.0)
    parser.add_argument("--worker", choices=["embedded", "separate"], default="embedded")
    parser.add_argument("--postgres-server", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args()
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
    for database in databases:
        run(
            database,
            tickets=options.tickets,
            spread=options.spread,
            worker=options.worker,
            postgres_server=options.postgres_server,
        )


if __name__ == "__main__":
    main()
