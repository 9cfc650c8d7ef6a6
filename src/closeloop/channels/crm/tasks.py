"""Background job ``channels.crm.enrich``: ask the CRM about a new customer, then set their tier
and company.

An :class:`~closeloop.jobs.ExternalEffect`: the settings and the customer are read in step 1,
the GET runs in step 2 with no transaction open, and step 3 writes what the CRM said (audited
as ``job:channels.crm.enrich``). A CRM that is down, slow or answers an error fails the attempt:
the job is retried with the worker's backoff and dead after the last attempt. The logs name the
customer by id only, never by email or phone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from closeloop.channels.credentials import SecretBox
from closeloop.channels.crm import service
from closeloop.channels.crm.client import LookupAnswer, LookupFailure, fetch
from closeloop.channels.crm.errors import CrmLookupFailed
from closeloop.channels.crm.lookup import enrichment_of
from closeloop.channels.crm.service import LookupPlan
from closeloop.db.session import UnitOfWork
from closeloop.jobs.registry import ExternalEffect
from closeloop.kit.logging import get_logger

VIA = f"job:{service.ENRICH_TASK}"
log = get_logger(__name__)


def _new_client() -> httpx.Client:
    return httpx.Client(follow_redirects=False)


@dataclass(frozen=True)
class CrmContext:
    """What the job needs from the server's configuration (built in ``closeloop.wiring``)."""

    cipher: SecretBox
    http_client: Callable[[], httpx.Client] = field(default=_new_client)


Outcome = LookupAnswer | LookupFailure


def prepare(
    uow: UnitOfWork, payload: Mapping[str, Any], *, context: CrmContext
) -> LookupPlan | None:
    return service.enrichment_plan(
        uow, customer_id=int(payload["customer_id"]), cipher=context.cipher
    )


def perform(plan: LookupPlan, *, context: CrmContext) -> Outcome:
    with context.http_client() as client:
        return fetch(plan.request, client=client)


def finish(uow: UnitOfWork, plan: LookupPlan, outcome: Outcome) -> Exception | None:
    if isinstance(outcome, LookupFailure):
        log.warning("crm.lookup_failed", customer_id=plan.customer_id, reason=outcome.reason)
        return CrmLookupFailed(reason=outcome.reason)
    if outcome.document is None:
        log.info("crm.customer_unknown", customer_id=plan.customer_id)
        return None
    enrichment = enrichment_of(
        outcome.document,
        tier_path=plan.tier_path,
        tier_values=plan.tier_values,
        company_path=plan.company_path,
    )
    changed = service.apply_enrichment(
        uow, customer_id=plan.customer_id, enrichment=enrichment, via=VIA
    )
    log.info("crm.customer_enriched", customer_id=plan.customer_id, fields=changed)
    return None


def enrich_effect(
    context: Callable[[], CrmContext],
) -> ExternalEffect[LookupPlan, Outcome]:
    """The job, with the context built on first use (wiring reads the server settings)."""
    return ExternalEffect(
        prepare=lambda uow, payload: prepare(uow, payload, context=context()),
        perform=lambda plan: perform(plan, context=context()),
        finish=finish,
    )


__all__ = ["CrmContext", "enrich_effect"]
