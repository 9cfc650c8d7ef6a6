"""Email with real processes: `closeloop smtpd` takes mail over SMTP, `closeloop worker` polls a
private Dovecot over IMAP and sends acknowledgements to an SMTP sink (aiosmtpd); and a worker
SIGKILLed in the middle of a mailbox of 50 messages, then restarted, has made every message a
ticket exactly once: none lost, none twice.

On a scratch SQLite file and, when CLOSELOOP_TEST_DATABASE_URL is set, a scratch PostgreSQL
database. Skipped (with the reason) where Dovecot is not installed.
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from tests.builders import make_team
from tests.integration.channels.email.dovecot import Dovecot, DovecotUnavailable, start_dovecot
from tests.integration.channels.email.mail import customer_email
from tests.integration.notifications.servers import MailCollector, free_port

from closeloop.accounts.domain import SYSTEM
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.email import mailboxes
from closeloop.channels.email.models import EmailMailbox
from closeloop.channels.email.schemas import MailboxCreate, TlsMode
from closeloop.channels.models import InboundRecord
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.tickets.models import Message, Ticket

pytestmark = pytest.mark.slow

CLOSELOOP = Path(sys.executable).with_name("closeloop")
POSTGRES_URL = os.environ.get("CLOSELOOP_TEST_DATABASE_URL", "")
SECRET_KEY = "email-process-test-secret-key-long-enough"
TEAM_ADDRESS = "support@help.example.cn"
MESSAGES = 50
TIMEOUT = 90.0


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    try:
        server = start_dovecot()
    except DovecotUnavailable as error:
        pytest.skip(f"no Dovecot: {error}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'email.sqlite3'}"
        return
    name = f"closeloop_email_{os.getpid()}"
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


@pytest.fixture
def sink() -> Iterator[tuple[MailCollector, int]]:
    collector = MailCollector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


def _mailbox(engine: Engine, dovecot: Dovecot) -> int:
    with UnitOfWork(create_session_factory(engine)) as uow:
        team = make_team(uow, name="Support")
        mailbox = mailboxes.create_mailbox(
            uow,
            data=MailboxCreate(
                team_id=team.id,
                name="Support",
                address=TEAM_ADDRESS,
                imap_host="127.0.0.1",
                imap_port=dovecot.port,
                tls_mode=TlsMode.none,
                username=dovecot.user,
                password=dovecot.password,
            ),
            cipher=channel_cipher(SECRET_KEY),
            actor=SYSTEM,
            via="test",
        )
        uow.commit()
        return mailbox.id


def _env(tmp_path: Path, database_url: str, smtp_port: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    return env | {
        "CLOSELOOP_ENVIRONMENT": "development",
        "CLOSELOOP_DATA_DIR": str(data_dir),
        "CLOSELOOP_DATABASE_URL": database_url,
        "CLOSELOOP_SECRET_KEY": SECRET_KEY,
        "CLOSELOOP_SMTP_HOST": "127.0.0.1" if smtp_port else "",
        "CLOSELOOP_SMTP_PORT": str(smtp_port or 25),
        "CLOSELOOP_SMTP_STARTTLS": "false",
        "CLOSELOOP_MAIL_FROM": "closeloop <noreply@help.example.cn>",
        "CLOSELOOP_EMAIL_POLL_LEASE_SECONDS": "3",
        "CLOSELOOP_LOG_LEVEL": "INFO",
    }


class Process:
    def __init__(self, arguments: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(CLOSELOOP), *arguments],
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


def _wait_for(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; log:\n{log.read_text()[-4000:]}")
        time.sleep(0.05)


def _count(engine: Engine, model: type[Ticket] | type[Message] | type[InboundRecord]) -> int:
    with UnitOfWork(create_session_factory(engine)) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_smtpd_and_the_imap_poller_turn_mail_into_tickets_and_acknowledge_them(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    dovecot: Dovecot,
    sink: tuple[MailCollector, int],
) -> None:
    collector, sink_port = sink
    _mailbox(engine, dovecot)
    env = _env(tmp_path, database_url, sink_port)
    log = tmp_path / "processes.log"
    smtpd_port = free_port()
    receiver = Process(["smtpd", "--port", str(smtpd_port)], env, log)
    worker = Process(["worker", "--poll-interval", "0.2"], env, log)
    try:
        _wait_for(lambda: _port_open(smtpd_port), "closeloop smtpd to listen", log)
        with smtplib.SMTP("127.0.0.1", smtpd_port, timeout=10) as client:
            client.sendmail(
                "wang.fang@customer.example.cn",
                [TEAM_ADDRESS],
                customer_email(subject="经 SMTP 送达", message_id="<by-smtp@customer.example.cn>"),
            )
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("x@customer.example.cn", ["nobody@help.example.cn"], b"x")
        # 250 was answered: the ticket is committed already.
        assert _count(engine, Ticket) == 1

        dovecot.append(customer_email(subject="经 IMAP 取到", sender="li@customer.example.cn"))
        _wait_for(lambda: _count(engine, Ticket) == 2, "the polled ticket", log)
        _wait_for(lambda: len(collector.messages) == 2, "two acknowledgements", log)
    finally:
        receiver.stop()
        worker.stop()
    with UnitOfWork(create_session_factory(engine)) as uow:
        subjects = set(uow.session.scalars(select(Ticket.subject)))
    assert subjects == {"经 SMTP 送达", "经 IMAP 取到"}
    recipients = sorted(m["To"].addresses[0].addr_spec for m in collector.messages)
    assert recipients == ["li@customer.example.cn", "wang.fang@customer.example.cn"]
    assert all(m["Auto-Submitted"] == "auto-replied" for m in collector.messages)


def test_a_worker_killed_mid_mailbox_loses_no_message_and_takes_none_twice(
    tmp_path: Path, database_url: str, engine: Engine, dovecot: Dovecot
) -> None:
    mailbox_id = _mailbox(engine, dovecot)
    dovecot.append_many(
        [
            customer_email(
                subject=f"消息 {n:02d}",
                sender=f"customer{n}@customer.example.cn",
                message_id=f"<kill-{n}@customer.example.cn>",
            )
            for n in range(MESSAGES)
        ]
    )
    env = _env(tmp_path, database_url, None)
    log = tmp_path / "worker.log"
    arguments = ["worker", "--poll-interval", "0.2", "--lease-seconds", "2"]

    first = Process(arguments, env, log)
    try:
        _wait_for(lambda: _count(engine, Ticket) >= MESSAGES // 3, "a third of the mail", log)
        first.kill()
    finally:
        first.stop()
    taken_before = _count(engine, Ticket)
    assert 0 < taken_before < MESSAGES

    second = Process(arguments, env, log)
    try:
        _wait_for(lambda: _count(engine, Ticket) >= MESSAGES, "every message", log)

        def finished() -> bool:
            with UnitOfWork(create_session_factory(engine)) as uow:
                mailbox = uow.session.get(EmailMailbox, mailbox_id)
                return mailbox is not None and mailbox.poll_token is None

        _wait_for(finished, "the poll chain to end", log)
    finally:
        second.stop()

    with UnitOfWork(create_session_factory(engine)) as uow:
        subjects = list(uow.session.scalars(select(Ticket.subject)))
        taken = list(
            uow.session.scalars(
                select(InboundRecord.external_id).where(InboundRecord.channel == "email")
            )
        )
        mailbox = uow.session.get(EmailMailbox, mailbox_id)
        assert mailbox is not None
        last_uid = mailbox.last_uid
    assert sorted(subjects) == [f"消息 {n:02d}" for n in range(MESSAGES)]
    assert sorted(taken) == sorted(f"kill-{n}@customer.example.cn" for n in range(MESSAGES))
    assert _count(engine, Message) == MESSAGES
    assert last_uid == MESSAGES
    assert dovecot.count() == MESSAGES  # nothing deleted
