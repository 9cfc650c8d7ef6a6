"""Fixtures of the email transport tests: a private Dovecot (IMAP), an aiosmtpd sink our
outgoing mail lands in, settings pointing at it, a worker with the production registry, and a
bus with the email reactions subscribed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session
from tests.builders import make_team
from tests.integration.notifications.servers import MailCollector

from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.models import Team
from closeloop.channels import service as channel_service
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.email import mailboxes
from closeloop.channels.email.models import EmailMailbox
from closeloop.channels.email.schemas import MailboxCreate, TlsMode
from closeloop.channels.service import settings as ingest_settings_module
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import Backoff
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.wiring import build_job_registry, subscribe_email

from .dovecot import Dovecot, DovecotUnavailable, free_port, start_dovecot

SERVER_KEY = "email-test-secret-key-that-is-long-enough"
TEAM_ADDRESS = "support@help.example.cn"


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot | str]:
    try:
        server = start_dovecot()
    except DovecotUnavailable as error:
        yield str(error)
        return
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot | str) -> Dovecot:
    """The shared Dovecot with an empty INBOX for this test."""
    if isinstance(dovecot_server, str):
        pytest.skip(f"no Dovecot: {dovecot_server}")
    client = dovecot_server.client()
    client.select('"INBOX"')
    client.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
    client.expunge()
    client.logout()
    return dovecot_server


@dataclass
class Sink:
    collector: MailCollector
    port: int


@pytest.fixture
def sink() -> Iterator[Sink]:
    """Where our outgoing email lands: a real SMTP server (aiosmtpd)."""
    collector = MailCollector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield Sink(collector, port)
    controller.stop()


@pytest.fixture
def email_settings(tmp_path: Path, sink: Sink) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=SERVER_KEY,
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_starttls=False,
        mail_from="closeloop <noreply@help.example.cn>",
        public_base_url="https://help.example.cn",
        imap_timeout_seconds=10,
    )


@pytest.fixture(autouse=True)
def ingest_settings(email_settings: Settings) -> Iterator[channel_service.IngestSettings]:
    """Ingest keeps raw mail and attachments under this test's data directory."""
    # What was installed before (None: nothing; reading it through current_ingest_settings
    # would load the environment's settings instead).
    previous = getattr(ingest_settings_module, "_configured", None)
    configured = channel_service.IngestSettings.from_settings(email_settings)
    channel_service.configure_ingest(configured)
    yield configured
    with ingest_settings_module._lock:
        ingest_settings_module._configured = previous


@pytest.fixture
def email_bus(bus: EventBus, email_settings: Settings) -> EventBus:
    """The test bus with the email reactions subscribed, as ``build_event_bus`` does."""
    subscribe_email(bus)
    return bus


RunJobs = Callable[[], int]


@pytest.fixture
def run_jobs(
    session_factory: Callable[[], Session],
    clock: FrozenClock,
    email_settings: Settings,
    email_bus: EventBus,
) -> RunJobs:
    """Run every due job with the worker and the registry ``closeloop worker`` uses."""
    worker = Worker(
        session_factory,
        build_job_registry(email_settings),
        (),
        clock,
        "email-test",
        batch=50,
        poll_interval=0.01,
        bus=email_bus,
        backoff=Backoff(jitter=0),
    )
    return worker.run_until_idle


@pytest.fixture
def team(make_uow: Callable[[], UnitOfWork]) -> Team:
    with make_uow() as uow:
        created = make_team(uow, name="售后组")
        uow.commit()
        return created


def add_mailbox(
    uow: UnitOfWork,
    team: Team,
    *,
    dovecot: Dovecot | None = None,
    address: str = TEAM_ADDRESS,
    password: str | None = None,
    mark_seen: bool = True,
) -> EmailMailbox:
    return mailboxes.create_mailbox(
        uow,
        data=MailboxCreate(
            team_id=team.id,
            name="Support",
            address=address,
            imap_host="127.0.0.1" if dovecot else "",
            imap_port=dovecot.port if dovecot else 993,
            tls_mode=TlsMode.none,
            username=dovecot.user if dovecot else "",
            password=(password or dovecot.password) if dovecot else None,
            mark_seen=mark_seen,
        ),
        cipher=channel_cipher(SERVER_KEY),
        actor=SYSTEM,
        via="test",
    )
