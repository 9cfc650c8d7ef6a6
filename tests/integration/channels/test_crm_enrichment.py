"""CRM enrichment against a real HTTP server on 127.0.0.1: a new customer gets the tier and the
company the CRM knows; a CRM that is down is retried and never holds up intake."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, CustomerTier, IdentityKind
from closeloop.accounts.models import Company, Customer
from closeloop.audit.models import AuditEvent
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.crm import service as crm
from closeloop.channels.crm.schemas import CrmSettingsUpdate
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.jobs.domain import Backoff
from closeloop.jobs.models import Job
from closeloop.jobs.runner import Worker
from closeloop.kit.clock import FrozenClock
from closeloop.kit.events import EventBus
from closeloop.wiring import build_job_registry, subscribe_customer_reactions

from .crm_server import TOKEN, CrmServer, free_port

EMAIL = "wang.fang@example.cn"
RECORD = {"data": [{"level": "Gold", "company": {"name": "上海示例有限公司"}}]}


@pytest.fixture
def crm_server() -> Iterator[CrmServer]:
    server = CrmServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reactions(bus: EventBus) -> None:
    subscribe_customer_reactions(bus)


@pytest.fixture
def run_jobs(
    session_factory: Callable[[], Session], clock: FrozenClock, settings: Settings
) -> Callable[[], int]:
    worker = Worker(
        session_factory,
        build_job_registry(settings),
        (),
        clock,
        "crm-test",
        poll_interval=0.01,
        backoff=Backoff(jitter=0),
    )
    return worker.run_until_idle


def configure(uow: UnitOfWork, settings: Settings, template: str, *, enabled: bool = True) -> None:
    crm.update_settings(
        uow,
        data=CrmSettingsUpdate(
            is_enabled=enabled,
            url_template=template,
            token=SecretStr(TOKEN),
            timeout_seconds=2,
            tier_path="/data/0/level",
            tier_values={"gold": CustomerTier.vip},
            company_path="data.0.company.name",
        ),
        cipher=channel_cipher(settings.secret_key.get_secret_value()),
        actor=SYSTEM,
        via="test",
    )
    uow.commit()


def new_customer(uow: UnitOfWork, email: str = EMAIL) -> Customer:
    """As a channel creates one: found or created by the sender's identity."""
    customer = accounts.find_or_create_customer(
        uow, kind=IdentityKind.email, value=email, name="Wang Fang", actor=SYSTEM, via="channel:api"
    )
    uow.commit()
    return customer


def crm_jobs(uow: UnitOfWork) -> list[Job]:
    return list(uow.session.scalars(select(Job).where(Job.name == crm.ENRICH_TASK)))


def test_a_new_customer_gets_the_tier_and_company_of_the_crm(
    uow: UnitOfWork, settings: Settings, crm_server: CrmServer, run_jobs: Callable[[], int]
) -> None:
    crm_server.state.records[EMAIL] = RECORD
    configure(uow, settings, crm_server.template)
    customer = new_customer(uow)
    assert [job.status for job in crm_jobs(uow)] == ["queued"]

    assert run_jobs() == 1

    uow.session.expire_all()
    assert customer.tier == "vip"
    company = uow.session.get(Company, customer.company_id)
    assert company is not None
    assert company.name == "上海示例有限公司"
    assert crm_server.state.requests == [
        {
            "path": "/api/customers",
            "query": {"email": EMAIL, "phone": ""},
            "authorization": f"Bearer {TOKEN}",
        }
    ]
    updates = uow.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "customer",
            AuditEvent.entity_id == customer.id,
            AuditEvent.action == "customer.updated",
        )
    ).all()
    assert {(e.field, e.new_value, e.via) for e in updates} == {
        ("company_id", company.id, "job:channels.crm.enrich"),
        ("tier", "vip", "job:channels.crm.enrich"),
    }
    # A second customer of the same company finds it instead of creating another.
    crm_server.state.records["li.lei@example.cn"] = RECORD
    colleague = new_customer(uow, "li.lei@example.cn")
    run_jobs()
    uow.session.expire_all()
    assert colleague.company_id == company.id
    assert uow.session.scalars(select(Company).where(Company.name == company.name)).all() == [
        company
    ]


def test_a_customer_the_crm_does_not_know_stays_as_is(
    uow: UnitOfWork, settings: Settings, crm_server: CrmServer, run_jobs: Callable[[], int]
) -> None:
    configure(uow, settings, crm_server.template)
    customer = new_customer(uow)
    run_jobs()
    uow.session.expire_all()
    assert (customer.tier, customer.company_id) == ("standard", None)
    assert [job.status for job in crm_jobs(uow)] == ["succeeded"]


def test_switched_off_means_no_job(
    uow: UnitOfWork, settings: Settings, crm_server: CrmServer
) -> None:
    configure(uow, settings, crm_server.template, enabled=False)
    new_customer(uow)
    assert crm_jobs(uow) == []


@pytest.mark.parametrize("failure", ["down_case", "error_case"])
def test_a_crm_that_is_down_is_retried_and_intake_goes_on(
    failure: str,
    uow: UnitOfWork,
    settings: Settings,
    clock: FrozenClock,
    crm_server: CrmServer,
    run_jobs: Callable[[], int],
) -> None:
    crm_server.state.records[EMAIL] = RECORD
    if failure == "down_case":
        configure(uow, settings, f"http://127.0.0.1:{free_port()}/api/customers?email={{email}}")
    else:
        configure(uow, settings, crm_server.template)
        crm_server.state.status_override = 503
    customer = new_customer(uow)  # committed: intake never waits for the CRM

    run_jobs()

    uow.session.expire_all()
    [job] = crm_jobs(uow)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.run_at == clock.now() + timedelta(seconds=10)
    assert job.last_error is not None
    assert EMAIL not in job.last_error
    assert customer.tier == "standard"

    # The CRM is back: the retry succeeds.
    configure(uow, settings, crm_server.template)
    crm_server.state.status_override = None
    clock.advance(timedelta(seconds=11))
    run_jobs()
    uow.session.expire_all()
    assert uow.session.get(Job, job.id).status == "succeeded"  # type: ignore[union-attr]
    assert customer.tier == "vip"
