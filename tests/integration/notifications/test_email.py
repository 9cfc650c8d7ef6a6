"""Email over SMTP: STARTTLS with login, TLS from the start, refusals, and no SMTP at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from tests.builders import make_agent

from closeloop.db.session import UnitOfWork
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import NotificationEvent, Recipient
from closeloop.notifications.errors import DeliveryFailed
from closeloop.notifications.models import NotificationDelivery
from closeloop.notifications.senders.email import SmtpSettings
from closeloop.notifications.tasks import DeliveryContext, deliver

from .conftest import SERVER_KEY, TlsMaterial
from .servers import MailCollector, free_port

USER, PASSWORD = "mailer", "s3cret-pass"


def _authenticator(
    _server: object, _session: object, _envelope: object, mechanism: str, data: object
) -> AuthResult:
    accepted = isinstance(data, LoginPassword) and (
        data.login.decode(),
        data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=accepted, handled=False)


@pytest.fixture
def collector() -> MailCollector:
    return MailCollector()


@pytest.fixture
def starttls_port(collector: MailCollector, tls: TlsMaterial) -> Iterator[int]:
    port = free_port()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def ssl_port(collector: MailCollector, tls: TlsMaterial) -> Iterator[int]:
    port = free_port()
    controller = Controller(
        collector, hostname="127.0.0.1", port=port, ssl_context=tls.server_context()
    )
    controller.start()
    yield port
    controller.stop()


def _queue_email(make_uow: Callable[[], UnitOfWork]) -> int:
    with make_uow() as uow:
        agent = make_agent(uow, email="ops@example.cn", password=None)
        agent.locale = "en"
        result = notifications.notify(
            uow,
            event=NotificationEvent.channel_test,
            recipients=[Recipient.agent(agent.id)],
            params={"channel": "email"},
        )
        uow.commit()
    [delivery_id] = result.deliveries
    return delivery_id


def _deliver(make_uow: Callable[[], UnitOfWork], delivery_id: int, smtp: SmtpSettings) -> str:
    context = DeliveryContext(smtp=smtp, cipher=cipher_for(SERVER_KEY))
    with make_uow() as uow:
        deliver(uow, {"delivery_id": delivery_id}, context=context)
        uow.commit()
        uow.session.expire_all()
        delivery = uow.session.scalar(
            select(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
        )
        assert delivery is not None
        return f"{delivery.status}: {delivery.last_error}"


def test_starttls_with_login(
    make_uow: Callable[[], UnitOfWork],
    collector: MailCollector,
    starttls_port: int,
    tls: TlsMaterial,
) -> None:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=starttls_port,
        mail_from="support@closeloop.example",
        username=USER,
        password=PASSWORD,
        starttls=True,
        tls_context=tls.client_context(),
    )
    delivery_id = _queue_email(make_uow)
    assert _deliver(make_uow, delivery_id, smtp) == "sent: None"
    [message] = collector.messages
    assert message["Subject"] == "closeloop test message"
    assert message["To"] == "ops@example.cn"
    assert collector.envelopes[0].mail_from == "support@closeloop.example"


def test_a_wrong_password_fails_the_attempt(
    make_uow: Callable[[], UnitOfWork],
    collector: MailCollector,
    starttls_port: int,
    tls: TlsMaterial,
) -> None:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=starttls_port,
        mail_from="support@closeloop.example",
        username=USER,
        password="wrong",
        starttls=True,
        tls_context=tls.client_context(),
    )
    delivery_id = _queue_email(make_uow)
    with pytest.raises(DeliveryFailed, match="SMTPAuthenticationError"):
        _deliver(make_uow, delivery_id, smtp)
    assert collector.envelopes == []


def test_plain_text_is_refused_where_starttls_is_required(
    make_uow: Callable[[], UnitOfWork], collector: MailCollector, starttls_port: int
) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=starttls_port, mail_from="s@closeloop.example")
    delivery_id = _queue_email(make_uow)
    with pytest.raises(DeliveryFailed):
        _deliver(make_uow, delivery_id, smtp)
    assert collector.envelopes == []


def test_tls_from_the_start(
    make_uow: Callable[[], UnitOfWork],
    collector: MailCollector,
    ssl_port: int,
    tls: TlsMaterial,
) -> None:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=ssl_port,
        mail_from="support@closeloop.example",
        ssl=True,
        starttls=True,  # ignored: the connection is encrypted already
        tls_context=tls.client_context(),
    )
    delivery_id = _queue_email(make_uow)
    assert _deliver(make_uow, delivery_id, smtp) == "sent: None"
    assert len(collector.messages) == 1


def test_an_untrusted_certificate_is_refused(
    make_uow: Callable[[], UnitOfWork], collector: MailCollector, ssl_port: int
) -> None:
    smtp = SmtpSettings(
        host="127.0.0.1", port=ssl_port, mail_from="s@closeloop.example", ssl=True
    )  # the system's trust store does not know the test certificate
    delivery_id = _queue_email(make_uow)
    with pytest.raises(DeliveryFailed, match="SSL"):
        _deliver(make_uow, delivery_id, smtp)
    assert collector.envelopes == []


def test_without_smtp_the_email_is_cancelled_not_retried(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    smtp = SmtpSettings(host="", port=25, mail_from="s@closeloop.example")
    delivery_id = _queue_email(make_uow)
    assert _deliver(make_uow, delivery_id, smtp) == (
        "cancelled: no SMTP server is configured (CLOSELOOP_SMTP_HOST)"
    )


def test_an_unreachable_server_fails_the_attempt(make_uow: Callable[[], UnitOfWork]) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), mail_from="s@closeloop.example")
    delivery_id = _queue_email(make_uow)
    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError"):
        _deliver(make_uow, delivery_id, replace(smtp, timeout=5.0))
