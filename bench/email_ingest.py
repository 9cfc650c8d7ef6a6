"""Emails parsed and ingested per second (corpus replayed 20 times, as new messages) on SQLite
and PostgreSQL.

    .venv/bin/python bench/email_ingest.py [--database sqlite|postgresql|both] [--replays 20]
                                           [--corpus /work/shared/corpora/email]

Builds its own database (SQLite: ``var/bench/email/sqlite/closeloop.sqlite3``; PostgreSQL: the
database ``closeloop_bench_email``, dropped and recreated), runs the migrations, and replays
every ``*.eml``/``*.txt`` message of the corpus (read in place, never copied) ``--replays``
times. Each replay rewrites the external id (``<Message-ID>#replay-<n>``) so every copy is a
new message. Each message is one transaction, as a mailbox poll takes it:
``channels.email.parse.parse_message`` → ``channels.service.ingest`` (or ``quarantine_raw``
when the parser gives up) → commit, with every in-transaction reaction of the real event bus
(routing, SLA clocks, notifications). Raw messages and attachments go to the bench's own data
directory. Prints messages/s, the outcomes, and the per-message p50/p95.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import shutil
import time
from collections import Counter
from pathlib import Path

from closeloop import wiring
from closeloop.channels import service as channel_service
from closeloop.channels.base import IngestResult
from closeloop.channels.email.parse import UnparseableMessage, parse_message
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.kit.clock import SystemClock
from closeloop.kit.logging import configure_logging
from closeloop.tickets.domain import Channel
from harness import (
    BENCH_DIR,
    DEFAULT_POSTGRES_URL,
    percentile,
    recreate_postgres_database,
)

DEFAULT_CORPUS = Path("/work/shared/corpora/email")
VIA = "bench:email_ingest"


def corpus_messages(corpus: Path) -> list[bytes]:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt"))
    return [p.read_bytes() for p in files if p.name != "SOURCE.txt"]


def run(database: str, url: str, data_dir: Path, messages: list[bytes], replays: int) -> None:
    engine = create_database_engine(url, pool_size=2)
    migrate.upgrade(engine)
    factory = create_session_factory(engine)
    bus = wiring.build_event_bus()
    clock = SystemClock()
    settings = channel_service.IngestSettings(
        attachments_dir=data_dir / "attachments",
        raw_dir=data_dir / "inbound",
        max_attachment_bytes=20 * 1024 * 1024,
        blocked_extensions=(".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs"),
        own_addresses=frozenset({"support@closeloop.bench"}),
    )
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    started = time.perf_counter()
    for replay in range(replays):
        for raw in messages:
            begun = time.perf_counter()
            with UnitOfWork(factory, bus=bus, clock=clock) as uow:
                result = _take(uow, raw, replay=replay, settings=settings)
                uow.commit()
            latencies.append(time.perf_counter() - begun)
            outcomes[result.outcome.value] += 1
    elapsed = time.perf_counter() - started
    engine.dispose()
    total = len(messages) * replays
    print(
        f"{database:10s} {total} messages in {elapsed:.1f} s: {total / elapsed:.1f} msgs/s "
        f"(p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms)"
    )
    print(f"{'':10s} outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    expected_duplicates = 0
    if outcomes["duplicate"] != expected_duplicates:
        print(f"{'':10s} NOTE: {outcomes['duplicate']} duplicates (messages sharing a Message-ID)")


def _take(
    uow: UnitOfWork, raw: bytes, *, replay: int, settings: channel_service.IngestSettings
) -> IngestResult:
    received_at = uow.clock.now()
    try:
        message = parse_message(raw, received_at=received_at)
    except UnparseableMessage as error:
        return channel_service.quarantine_raw(
            uow,
            channel=Channel.email,
            external_id=f"sha256:{hashlib.sha256(raw).hexdigest()}#replay-{replay}",
            raw=raw,
            reason=error.reason,
            received_at=received_at,
            settings=settings,
        )
    message = dataclasses.replace(message, external_id=f"{message.external_id}#replay-{replay}")
    return channel_service.ingest(uow, message, via=VIA, settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--replays", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--postgres-server", default=DEFAULT_POSTGRES_URL)
    arguments = parser.parse_args()
    configure_logging("WARNING", False)
    # The classifier's libraries load on the first triage: a process cost, not a message's.
    importlib.import_module("closeloop.routing.classifier")
    messages = corpus_messages(arguments.corpus)
    print(f"corpus: {len(messages)} messages from {arguments.corpus}, {arguments.replays} replays")
    databases = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    for database in databases:
        root = BENCH_DIR / "email" / database
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        if database == "sqlite":
            url = f"sqlite:///{root / 'closeloop.sqlite3'}"
        else:
            url = recreate_postgres_database(arguments.postgres_server, "closeloop_bench_email")
        run(database, url, root / "data", messages, arguments.replays)


if __name__ == "__main__":
    main()
