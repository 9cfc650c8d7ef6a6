"""enqueue: the job is part of the caller's transaction, and an idempotency key makes it once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from tests.builders import make_customer, make_ticket
from tests.conftest import START

from closeloop.db.session import UnitOfWork, create_session_factory
from closeloop.jobs import enqueue
from closeloop.jobs.models import Job
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.models import Ticket

from .support import count_jobs, only_job


def test_enqueue_writes_a_queued_job_in_the_callers_transaction(uow: UnitOfWork) -> None:
    enqueue(uow, "tickets.reindex", {"ticket_id": 42, "fields": ["subject"]})
    uow.commit()

    job = only_job(uow, "tickets.reindex")
    assert job.payload == {"ticket_id": 42, "fields": ["subject"]}
    assert job.status == "queued"
    assert job.attempts == 0
    assert job.max_attempts == 8
    assert job.run_at == START
    assert job.created_at == START
    assert (job.locked_by, job.locked_until, job.finished_at, job.last_error) == (
        None,
        None,
        None,
        None,
    )
    assert job.idempotency_key is None


def test_enqueue_rolls_back_with_the_caller(make_uow: Callable[[], UnitOfWork]) -> None:
    with make_uow() as uow:
        enqueue(uow, "tickets.reindex", {"ticket_id": 1})
        uow.rollback()
    with make_uow() as uow:
        assert count_jobs(uow) == 0


def test_job_enqueued_while_opening_a_ticket_vanishes_when_the_ticket_rolls_back(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    with make_uow() as setup:
        customer = make_customer(setup)
        setup.commit()
    with make_uow() as uow:
        ticket = make_ticket(uow, requester=customer, subject="Printer on fire")
        enqueue(uow, "tickets.reindex", {"ticket_id": ticket.id})
        uow.rollback()
    with make_uow() as uow:
        assert uow.session.get(Ticket, ticket.id) is None
        assert count_jobs(uow) == 0
    with make_uow() as uow:
        kept = make_ticket(uow, requester=customer, subject="Printer on fire again")
        enqueue(uow, "tickets.reindex", {"ticket_id": kept.id})
        uow.commit()
    with make_uow() as uow:
        assert only_job(uow, "tickets.reindex").payload == {"ticket_id": kept.id}


def test_same_idempotency_key_in_one_transaction_is_one_job(uow: UnitOfWork) -> None:
    enqueue(uow, "sla.escalate", {"ticket_id": 7}, idempotency_key="sla.escalate:7:breach")
    enqueue(uow, "sla.escalate", {"ticket_id": 8}, idempotency_key="sla.escalate:7:breach")
    enqueue(uow, "sla.escalate", {"ticket_id": 9}, idempotency_key="sla.escalate:9:breach")
    uow.commit()

    assert count_jobs(uow) == 2
    assert count_jobs(uow, idempotency_key="sla.escalate:7:breach", payload={"ticket_id": 7}) == 1


def test_same_idempotency_key_in_two_transactions_is_one_job(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    for ticket_id in (7, 8):
        with make_uow() as uow:
            enqueue(uow, "sla.escalate", {"ticket_id": ticket_id}, idempotency_key="once")
            uow.commit()
    with make_uow() as uow:
        assert only_job(uow, "sla.escalate").payload == {"ticket_id": 7}


def test_a_duplicate_key_does_not_spoil_the_callers_transaction(
    make_uow: Callable[[], UnitOfWork],
) -> None:
    with make_uow() as uow:
        enqueue(uow, "sla.escalate", {}, idempotency_key="once")
        uow.commit()
    with make_uow() as uow:
        customer = make_customer(uow)
        enqueue(uow, "sla.escalate", {}, idempotency_key="once")
        make_ticket(uow, requester=customer)
        uow.commit()
    with make_uow() as uow:
        assert count_jobs(uow) == 1
        assert uow.session.query(Ticket).count() == 1


def test_run_at_and_max_attempts_are_kept(uow: UnitOfWork, clock: FrozenClock) -> None:
    later = START + timedelta(hours=2)
    enqueue(uow, "reporting.roll_up", {}, run_at=later, max_attempts=2)
    uow.commit()
    job = only_job(uow, "reporting.roll_up")
    assert (job.run_at, job.max_attempts) == (later, 2)


@pytest.mark.parametrize(
    ("name", "payload", "options", "error"),
    [
        pytest.param("reindex", {}, {}, ValueError, id="undotted_name_case"),
        pytest.param("Tickets.Reindex", {}, {}, ValueError, id="uppercase_name_case"),
        pytest.param("tickets.reindex", {"at": START}, {}, TypeError, id="datetime_case"),
        pytest.param("tickets.reindex", {"x": float("nan")}, {}, ValueError, id="nan_case"),
        pytest.param("tickets.reindex", {}, {"max_attempts": 0}, ValueError, id="attempts_case"),
        pytest.param("tickets.reindex", {}, {"idempotency_key": ""}, ValueError, id="key_case"),
    ],
)
def test_enqueue_refuses_what_it_could_not_run(
    uow: UnitOfWork, name: str, payload: dict[str, object], options: dict[str, int], error: type
) -> None:
    with pytest.raises(error):
        enqueue(uow, name, payload, **options)  # type: ignore[arg-type]
    assert count_jobs(uow) == 0


def test_enqueue_refuses_a_read_only_unit_of_work(uow: UnitOfWork) -> None:
    uow.read_only = True
    with pytest.raises(RuntimeError):
        enqueue(uow, "tickets.reindex", {})


def test_concurrent_transactions_with_one_key_make_one_job(scratch_engine: Engine) -> None:
    """Two transactions race on one key (on PostgreSQL the second waits for the first to
    commit, then writes nothing; SQLite serialises them): one row, no error."""
    factory = create_session_factory(scratch_engine)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def enqueue_once(number: int) -> None:
        try:
            with UnitOfWork(factory, clock=FrozenClock(START)) as uow:
                barrier.wait(timeout=10)
                enqueue(uow, "sla.escalate", {"by": number}, idempotency_key="race")
                uow.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=enqueue_once, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with UnitOfWork(factory) as uow:
        assert count_jobs(uow) == 1
        assert uow.session.query(Job).one().idempotency_key == "race"
