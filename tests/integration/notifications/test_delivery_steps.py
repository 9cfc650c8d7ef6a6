"""``notifications.deliver`` in the worker: intent (``send_started_at``) committed before the
send, outcome after it; an interrupted send is sent again, a refused one keeps its error."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from tests.builders import make_agent

from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.notifications import service as notifications
from closeloop.notifications import tasks
from closeloop.notifications.domain import NotificationEvent, Recipient
from closeloop.notifications.models import NotificationDelivery
from closeloop.wiring import delivery_context

from .conftest import Mailbox, RunJobs


def _queue_email(make_uow: Callable[[], UnitOfWork]) -> int:
    with make_uow() as uow:
        agent = make_agent(uow, email="ops@example.cn", password=None)
        result = notifications.notify(
            uow,
            event=NotificationEvent.channel_test,
            recipients=[Recipient.agent(agent.id)],
            params={"channel": "email"},
        )
        uow.commit()
    [delivery_id] = result.deliveries
    return delivery_id


def _delivery(make_uow: Callable[[], UnitOfWork], delivery_id: int) -> NotificationDelivery:
    with make_uow() as uow:
        found = uow.session.get(NotificationDelivery, delivery_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def test_a_delivery_interrupted_mid_send_is_sent_again_with_the_same_message_id(
    make_uow: Callable[[], UnitOfWork],
    mailbox: Mailbox,
    mail_settings: Settings,
    run_jobs: RunJobs,
) -> None:
    delivery_id = _queue_email(make_uow)
    context = delivery_context(mail_settings)
    # A worker commits its intent, sends, and dies before recording the outcome.
    with make_uow() as uow:
        outgoing = tasks.prepare(uow, {"delivery_id": delivery_id}, context=context)
        uow.commit()
    assert outgoing is not None
    assert tasks.perform(outgoing, context=context) is None
    interrupted = _delivery(make_uow, delivery_id)
    assert (interrupted.status, interrupted.attempts) == ("pending", 1)
    assert interrupted.send_started_at is not None

    assert run_jobs() == 1

    delivery = _delivery(make_uow, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.send_started_at) == ("sent", 2, None)
    first, second = mailbox.collector.messages
    assert first["Message-ID"] == second["Message-ID"]  # receivers can drop the repeat


def test_a_refused_send_keeps_its_error_and_is_retried(
    make_uow: Callable[[], UnitOfWork], mail_settings: Settings, run_jobs: RunJobs
) -> None:
    delivery_id = _queue_email(make_uow)
    mailbox_down = mail_settings.model_copy(update={"smtp_port": 9})  # discard: refused
    context = delivery_context(mailbox_down)
    with make_uow() as uow:
        outgoing = tasks.prepare(uow, {"delivery_id": delivery_id}, context=context)
        assert outgoing is not None
        failure = tasks.finish(uow, outgoing, tasks.perform(outgoing, context=context))
        uow.commit()
    assert failure is not None

    delivery = _delivery(make_uow, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.send_started_at) == ("pending", 1, None)
    assert delivery.last_error is not None
    assert "ConnectionRefusedError" in delivery.last_error

    assert run_jobs() == 1  # the job, with the real mailbox: sent now
    delivery = _delivery(make_uow, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, None)
    with make_uow() as uow:
        assert uow.session.scalars(select(Job.status)).all() == ["succeeded"]
