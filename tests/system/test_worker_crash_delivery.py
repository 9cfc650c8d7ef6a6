"""SIGKILL a `closeloop worker` in the middle of a batch of notifications; after a restart every
notification has reached a real SMTP server (aiosmtpd) and a WeCom-like bot server exactly once,
except the one message whose send the kill interrupted after the receiver had accepted it.

The delivery guarantee (docs/subsystems/notifications.md, "Delivery guarantee"): a delivery
commits ``send_started_at`` before its message leaves and ``sent`` right after the receiver
answers. A worker killed between the two leaves that one delivery "in doubt"; the next attempt
sends it again (same Message-ID), so it arrives twice only if the receiver had accepted it. Every
other delivery of the batch (sent before the kill, or claimed but not started) arrives once.

To land the kill at a known instant, the receivers hold one chosen request until the test has
killed the worker: *before* accepting it (the SMTP server has not answered the DATA, the bot has
not recorded the post) or *after* (the message is accepted and recorded; the SMTP server holds
its answer to QUIT, the bot its HTTP response). Each case runs on a scratch SQLite file and, when
CLOSELOOP_TEST_DATABASE_URL is set, a scratch PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from tests.builders import make_agent, make_customer, make_ticket
from tests.integration.notifications.servers import (
    WECOM_KEY,
    BotServer,
    MailCollector,
    free_port,
    start_bot_server,
)

from closeloop.accounts.domain import SYSTEM
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import ChannelKind, NotificationEvent, Recipient
from closeloop.notifications.models import NotificationDelivery
from closeloop.notifications.schemas import ChannelCreate
from closeloop.notifications.senders.email import message_id

pytestmark = pytest.mark.slow

CLOSELOOP = Path(sys.executable).with_name("closeloop")
POSTGRES_URL = os.environ.get("CLOSELOOP_TEST_DATABASE_URL", "")
SECRET_KEY = "crash-test-secret-key-that-is-long-enough"
MAIL_FROM = "closeloop <support@closeloop.example>"
TICKETS = 20  # one email and one bot post each: 40 deliveries, four batches of 10
HELD_REQUEST = 8  # the receivers hold the 8th email or the 8th post: mid second batch
LEASE_SECONDS = 2
TIMEOUT = 60.0
TICKET_IN_POST = re.compile(r"/agent/tickets/(\d+)")


# --- the receivers, holding one request until the worker is dead --------------------------------


class Hold:
    """Holds the ``number``-th request of one ``kind`` (``email`` or ``bot``)."""

    def __init__(self, kind: str, number: int) -> None:
        self.kind = kind
        self.number = number
        self.holding = threading.Event()  # the held request has arrived
        self.released = threading.Event()  # the worker is dead: let it go
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def is_held(self, kind: str) -> bool:
        """Count a request of ``kind``; True for the one to hold."""
        with self._lock:
            self._seen[kind] += 1
            return kind == self.kind and self._seen[kind] == self.number

    def wait_blocking(self) -> None:
        self.holding.set()
        self.released.wait(TIMEOUT)

    async def wait_async(self) -> None:
        self.holding.set()
        while not self.released.is_set():
            await asyncio.sleep(0.01)


class HoldingMail(MailCollector):
    """The SMTP server: *before* holds its answer to DATA and then drops the message; *after*
    accepts it and holds its answer to the QUIT that follows."""

    def __init__(self, hold: Hold, after_acceptance: bool) -> None:
        super().__init__()
        self.hold = hold
        self.after_acceptance = after_acceptance
        self._held_sessions: set[int] = set()

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if not self.hold.is_held("email"):
            return await super().handle_DATA(server, session, envelope)
        if not self.after_acceptance:
            await self.hold.wait_async()
            return "451 Aborted: the client went away"  # nobody reads it; nothing is kept
        self._held_sessions.add(id(session))
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if id(session) in self._held_sessions:
            await self.hold.wait_async()
        return "221 Bye"


class HoldingBots(BotServer):
    """The WeCom-like bot: *before* holds a post unrecorded, then drops it; *after* records it
    (accepted) and holds the HTTP response."""

    def __init__(self, hold: Hold, after_acceptance: bool) -> None:
        super().__init__(FrozenClock(datetime.now(UTC)))
        self.hold = hold
        self.after_acceptance = after_acceptance

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if not self.hold.is_held("bot"):
            return super().answer(path, headers, body)
        if not self.after_acceptance:
            self.hold.wait_blocking()
            return 503, b""
        status, answer = super().answer(path, headers, body)
        self.hold.wait_blocking()
        return status, answer


@dataclass
class Receivers:
    hold: Hold
    mail: HoldingMail
    smtp_port: int
    bots: HoldingBots


@pytest.fixture
def receivers(request: pytest.FixtureRequest) -> Iterator[Receivers]:
    kind, moment = request.param
    hold = Hold(kind, HELD_REQUEST)
    mail = HoldingMail(hold, after_acceptance=moment == "after")
    port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=port)
    controller.start()
    bots = HoldingBots(hold, after_acceptance=moment == "after")
    server, thread = start_bot_server(bots)
    yield Receivers(hold, mail, port, bots)
    hold.released.set()
    controller.stop()
    server.shutdown()
    server.server_close()
    thread.join(5)


# --- a scratch database ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    name = f"closeloop_crash_{os.getpid()}"
    admin = create_database_engine(POSTGRES_URL)

    def run(statement: str) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)

    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    run(f"CREATE DATABASE {name}")
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _queue_notifications(engine: Engine, bots: BotServer) -> None:
    """A WeCom channel hearing of breaches, and one breach per ticket told to an agent: an email
    and a bot post for each of the TICKETS tickets, all queued (jobs in id order)."""
    with UnitOfWork(create_session_factory(engine)) as uow:
        notifications.create_channel(
            uow,
            data=ChannelCreate.model_validate(
                {
                    "kind": ChannelKind.wecom,
                    "name": "值班群",
                    "url": bots.url(f"/wecom/send?key={WECOM_KEY}"),
                    "events": ["sla.breached"],
                }
            ),
            cipher=cipher_for(SECRET_KEY),
            actor=SYSTEM,
            via="test",
        )
        customer = make_customer(uow)
        for number in range(TICKETS):
            agent = make_agent(uow, password=None, email=f"oncall{number}@example.cn")
            ticket = make_ticket(uow, requester=customer, subject=f"机房断电 {number}")
            notifications.notify(
                uow,
                event=NotificationEvent.sla_breached,
                recipients=[Recipient.agent(agent.id)],
                params={"target": "resolution", "due_at": datetime(2026, 11, 25, 4, tzinfo=UTC)},
                ticket_id=ticket.id,
                occurrence=f"crash-test:{ticket.id}",
            )
        uow.commit()


@dataclass(frozen=True)
class Delivery:
    """A delivery row as read at one moment."""

    id: int
    kind: str
    status: str
    attempts: int
    send_started_at: datetime | None
    idempotency_key: str
    ticket_id: int | None


def _deliveries(engine: Engine) -> list[Delivery]:
    with UnitOfWork(create_session_factory(engine)) as uow:
        rows = uow.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))
        return [
            Delivery(
                r.id,
                r.kind,
                r.status,
                r.attempts,
                r.send_started_at,
                r.idempotency_key,
                r.ticket_id,
            )
            for r in rows
        ]


def _running_jobs(engine: Engine) -> list[int]:
    with UnitOfWork(create_session_factory(engine)) as uow:
        return list(uow.session.scalars(select(Job.id).where(Job.status == "running")))


# --- the worker process ------------------------------------------------------------------------


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    str(CLOSELOOP),
                    "worker",
                    "--poll-interval",
                    "0.2",
                    "--lease-seconds",
                    str(LEASE_SECONDS),
                ],
                cwd=log.parent,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _worker_env(tmp_path: Path, database_url: str, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    return env | {
        "CLOSELOOP_ENVIRONMENT": "development",
        "CLOSELOOP_DATA_DIR": str(data_dir),
        "CLOSELOOP_DATABASE_URL": database_url,
        "CLOSELOOP_SECRET_KEY": SECRET_KEY,
        "CLOSELOOP_SMTP_HOST": "127.0.0.1",
        "CLOSELOOP_SMTP_PORT": str(smtp_port),
        "CLOSELOOP_SMTP_STARTTLS": "false",
        "CLOSELOOP_MAIL_FROM": MAIL_FROM,
        "CLOSELOOP_LOG_LEVEL": "INFO",
    }


def _wait_for(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")
        time.sleep(0.05)


# --- counting what arrived ---------------------------------------------------------------------


def _arrivals(receivers: Receivers, deliveries: list[Delivery]) -> Counter[int]:
    """How many times each delivery (by id) reached its receiver: emails by Message-ID (derived
    from the delivery's key), bot posts by the ticket they link to (one post per ticket)."""
    by_message_id = {
        message_id(d.idempotency_key, MAIL_FROM): d.id for d in deliveries if d.kind == "email"
    }
    by_ticket = {d.ticket_id: d.id for d in deliveries if d.kind == "wecom"}
    counted: Counter[int] = Counter()
    for message in receivers.mail.messages:
        counted[by_message_id[str(message["Message-ID"])]] += 1
    for post in receivers.bots.accepted("wecom"):
        content: Any = post.document["markdown"]["content"]
        found = TICKET_IN_POST.search(content)
        assert found is not None, content
        counted[by_ticket[int(found[1])]] += 1
    return counted


CASES = [
    pytest.param(("email", "before"), id="email-held-before-acceptance"),
    pytest.param(("email", "after"), id="email-held-after-acceptance"),
    pytest.param(("bot", "before"), id="bot-held-before-acceptance"),
    pytest.param(("bot", "after"), id="bot-held-after-acceptance"),
]


@pytest.mark.parametrize("receivers", CASES, indirect=True)
def test_a_killed_worker_loses_nothing_and_repeats_only_the_send_it_interrupted(
    tmp_path: Path, database_url: str, engine: Engine, receivers: Receivers
) -> None:
    _queue_notifications(engine, receivers.bots)
    deliveries = _deliveries(engine)
    assert len(deliveries) == 2 * TICKETS
    env = _worker_env(tmp_path, database_url, receivers.smtp_port)
    log = tmp_path / "worker.log"

    first = WorkerProcess(env, log)
    try:
        _wait_for(receivers.hold.holding.is_set, "the held request", log)
        first.kill()  # mid-send of the held message, mid-batch
    finally:
        first.stop()
    receivers.hold.released.set()

    # The kill left exactly one delivery in doubt: the one being sent, of the held kind.
    at_kill = _deliveries(engine)
    in_doubt = [d for d in at_kill if d.status == "pending" and d.send_started_at is not None]
    assert [d.kind for d in in_doubt] == ["email" if receivers.hold.kind == "email" else "wecom"]
    [doubtful] = in_doubt
    sent_before = {d.id for d in at_kill if d.status == "sent"}
    assert 0 < len(sent_before) < len(at_kill) - 1
    arrived_before = _arrivals(receivers, at_kill)
    accepted = receivers.mail.after_acceptance
    assert set(arrived_before) == sent_before | ({doubtful.id} if accepted else set())
    # The rest of its batch was claimed by the dead worker: their leases must expire first.
    assert _running_jobs(engine)

    second = WorkerProcess(env, log)
    try:
        _wait_for(
            lambda: all(d.status == "sent" for d in _deliveries(engine)), "every delivery", log
        )
        _wait_for(lambda: not _running_jobs(engine), "the last job to finish", log)
    finally:
        second.stop()

    final = _deliveries(engine)
    assert all(d.send_started_at is None for d in final)
    arrived = _arrivals(receivers, final)
    expected = {d.id: 1 for d in final}
    if accepted:
        # Accepted by the receiver, not yet recorded as sent when the worker died: sent again,
        # under the same Message-ID (receivers can drop it). The only repeat.
        expected[doubtful.id] = 2
    assert dict(arrived) == expected
    doubtful_after = next(d for d in final if d.id == doubtful.id)
    assert doubtful_after.attempts == 2
    assert "notification_resending" in log.read_text()
