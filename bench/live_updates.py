"""How fast a ticket change reaches open live-update streams (Server-Sent Events).

    .venv/bin/python bench/live_updates.py [--streams 50] [--tickets 40] [--redis URL]

Prepares a fresh SQLite installation under ``var/bench/live/``, starts ``closeloop serve`` (and,
with ``--redis``, a second one: the streams listen on process B while the tickets are created
through process A, so every event crosses Redis), signs an agent in, opens N streams on the
``tickets`` topic, then creates tickets one by one through the JSON API. For each ticket it
measures the time from sending the request to the event's arrival on every stream (the event
leaves after the commit, so this is the API's own time plus the delivery), and prints
p50/p95/max of it (target: p95 under 100 ms on one process, under 200 ms through Redis), events
lost (target 0), and the API's own p50 for comparison.
"""

from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from pathlib import Path

import httpx

from harness import (
    BENCH_DIR,
    ServerProcess,
    closeloop_env,
    percentile,
    run_closeloop,
)

PASSWORD = "bench password 123"  # noqa: S105 (a throwaway bench account)


class Listener(threading.Thread):
    """One SSE stream; remembers when each ticket id first arrived."""

    def __init__(self, base_url: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.cookie = cookie
        self.arrivals: dict[int, float] = {}
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            self._listen()
        except httpx.HTTPError:
            if not self.stop.is_set():
                raise

    def _listen(self) -> None:
        with (
            httpx.Client(
                base_url=self.base_url,
                cookies={"closeloop_session": self.cookie},
                timeout=httpx.Timeout(10, read=None),
            ) as client,
            client.stream("GET", "/live/stream", params={"topic": "tickets"}) as response,
        ):
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("data: "):
                    event = json.loads(line[6:])
                    ticket_id = event["data"].get("ticket_id")
                    if isinstance(ticket_id, int):
                        self.arrivals.setdefault(ticket_id, time.perf_counter())
                if self.stop.is_set():
                    return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=40)
    parser.add_argument("--redis", default="", help="Redis URL: two processes, events via Redis.")
    options = parser.parse_args()

    data_dir = BENCH_DIR / "live"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = closeloop_env(data_dir, f"sqlite:///{data_dir / 'closeloop.sqlite3'}")
    if options.redis:
        env["CLOSELOOP_REDIS_URL"] = options.redis
    run_closeloop(env, data_dir, "db", "upgrade")
    run_closeloop(
        env, data_dir, "user", "create", "--email", "bench@example.com", "--name", "Bench",
        "--role", "admin", "--password", PASSWORD,
    )  # fmt: skip
    output = run_closeloop(env, data_dir, "token", "create", "--email", "bench@example.com")
    token = next(w for line in output.splitlines() for w in line.split() if w.startswith("clp_"))

    writer = ServerProcess(env, data_dir)
    reader = ServerProcess(env, data_dir) if options.redis else writer
    listeners: list[Listener] = []
    try:
        writer.wait_until_healthy()
        reader.wait_until_healthy()
        session = httpx.post(
            f"{reader.base_url}/api/v1/auth/session",
            json={"email": "bench@example.com", "password": PASSWORD},
        )
        session.raise_for_status()
        cookie = session.cookies["closeloop_session"]
        listeners = [Listener(reader.base_url, cookie) for _ in range(options.streams)]
        for listener in listeners:
            listener.start()
        for listener in listeners:
            if not listener.connected.wait(30):
                raise RuntimeError("a stream did not connect")

        api = httpx.Client(
            base_url=f"{writer.base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        customer = api.post("/customers", json={"name": "王芳", "emails": ["wf@example.cn"]})
        customer.raise_for_status()
        sent: dict[int, float] = {}
        api_seconds: list[float] = []
        for number in range(options.tickets):
            started = time.perf_counter()
            created = api.post(
                "/tickets",
                json={"subject": f"VPN 无法连接 {number}", "requester_id": customer.json()["id"]},
            )
            created.raise_for_status()
            sent[created.json()["id"]] = started
            api_seconds.append(time.perf_counter() - started)
            time.sleep(0.05)
        time.sleep(2)
        delays: list[float] = []
        lost = 0
        for listener in listeners:
            for ticket_id, at in sent.items():
                arrived = listener.arrivals.get(ticket_id)
                if arrived is None:
                    lost += 1
                else:
                    delays.append(arrived - at)
    finally:
        for listener in listeners:
            listener.stop.set()
        writer.stop()
        if reader is not writer:
            reader.stop()

    mode = "two processes through Redis" if options.redis else "one process, in-process broker"
    print(f"live updates: {mode}; {options.streams} streams × {options.tickets} tickets")
    print(f"  events expected {options.streams * options.tickets}, lost {lost} (target 0)")
    print(
        "  from sending POST /tickets to the event on each stream: "
        f"p50 {percentile(delays, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(delays, 0.95) * 1000:.1f} ms,"
        f" max {max(delays, default=float('nan')) * 1000:.1f} ms"
        f" (target p95 < {200 if options.redis else 100} ms)"
    )
    print(f"  the API's answer alone: p50 {percentile(api_seconds, 0.5) * 1000:.1f} ms")


if __name__ == "__main__":
    Path(BENCH_DIR).mkdir(parents=True, exist_ok=True)
    main()
