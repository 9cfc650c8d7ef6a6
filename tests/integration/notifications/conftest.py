"""Fixtures of the notification tests: a real SMTP server, a bot server, TLS material, a worker."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import Backoff
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.wiring import build_job_registry, subscribe_notifications

from .servers import BotServer, MailCollector, free_port, start_bot_server

SERVER_KEY = "test-secret-key-that-is-long-enough"


@dataclass
class Mailbox:
    collector: MailCollector
    port: int


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A plain SMTP server on 127.0.0.1 (like a local relay)."""
    collector = MailCollector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield Mailbox(collector, port)
    controller.stop()


@pytest.fixture
def bots(clock: FrozenClock) -> Iterator[BotServer]:
    server_state = BotServer(clock)
    server, thread = start_bot_server(server_state)
    yield server_state
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass(frozen=True)
class TlsMaterial:
    certificate: Path
    key: Path
    pem: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts only this self-signed certificate, with hostname checks on."""
        return ssl.create_default_context(cadata=self.pem)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A self-signed certificate for 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    certificate_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    certificate_path.write_text(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsMaterial(certificate_path, key_path, pem)


@pytest.fixture
def mail_settings(tmp_path: Path, mailbox: Mailbox) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key=SERVER_KEY,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_starttls=False,
        mail_from="closeloop 服务台 <support@closeloop.example>",
    )


RunJobs = Callable[[], int]


@pytest.fixture
def run_jobs(
    session_factory: Callable[[], Session], clock: FrozenClock, mail_settings: Settings
) -> RunJobs:
    """Run every due job with the worker and the registry ``closeloop serve`` uses."""
    worker = Worker(
        session_factory,
        build_job_registry(mail_settings),
        (),
        clock,
        "notifications-test",
        batch=50,
        poll_interval=0.01,
        backoff=Backoff(jitter=0),
    )
    return worker.run_until_idle


@pytest.fixture
def subscribed_bus(bus: EventBus, make_uow: Callable[[], UnitOfWork]) -> EventBus:
    """The test bus with the notification reactions subscribed, as ``create_app`` does."""
    subscribe_notifications(bus)
    return bus
