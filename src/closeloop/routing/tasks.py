"""Background jobs of the routing feature ("routing.<verb>"): retraining the classifier.

- ``routing.retrain`` (weekly, ``jobs/schedule.py``): for each field (type, priority, team),
  asks for a retraining when enough has been learnt since its newest model: at least
  ``MIN_NEW_LABELLED`` tickets resolved or closed since then, or a tenth of what that model
  was trained on if more, counting agents' corrections too; a field without a model needs
  ``training.MIN_EXAMPLES`` labelled tickets.
- ``routing.retrain_field`` (``{"field": ...}``): one field's retraining, as an external effect
  so that no transaction is open while the model is fitted (a minute on 30,000 tickets): the
  examples are read and committed, the fit runs without the database, the model is stored in
  a second transaction. The new model becomes active unless its held-out accuracy is more than
  ``ACCURACY_TOLERANCE`` below the active model's.

scikit-learn is imported only when a retraining runs, not when the worker starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from closeloop.accounts.domain import SYSTEM
from closeloop.db.session import UnitOfWork
from closeloop.jobs.queue import enqueue
from closeloop.jobs.registry import AnyHandler, ExternalEffect
from closeloop.kit.logging import get_logger
from closeloop.routing import model_store
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketQuery

if TYPE_CHECKING:
    from closeloop.routing.training import Examples, TrainingResult

RETRAIN_TASK = "routing.retrain"
RETRAIN_FIELD_TASK = "routing.retrain_field"
MIN_NEW_LABELLED = 50
MIN_NEW_SHARE = 0.1
FIRST_MODEL_EXAMPLES = 30  # training.MIN_EXAMPLES, without importing scikit-learn here
ACCURACY_TOLERANCE = 0.02
VIA = "job:routing.retrain"
log = get_logger(__name__)


def retrain(uow: UnitOfWork, payload: Mapping[str, Any]) -> None:
    """Enqueue a retraining of every field that has learnt enough since its newest model."""
    slot = str(payload.get("slot", ""))
    for field in model_store.FIELDS:
        if retraining_due(uow, field):
            enqueue(
                uow,
                RETRAIN_FIELD_TASK,
                {"field": field},
                idempotency_key=f"{RETRAIN_FIELD_TASK}:{field}@{slot}" if slot else None,
            )
            log.info("routing.retrain_enqueued", field=field)


def retraining_due(uow: UnitOfWork, field: str) -> bool:
    models = model_store.list_models(uow, field=field)
    if not models:
        return _labelled_since(uow, None, FIRST_MODEL_EXAMPLES) >= FIRST_MODEL_EXAMPLES
    newest = models[0]
    trained_on = int(newest.trained_on.get("n_samples", 0))
    needed = max(MIN_NEW_LABELLED, int(MIN_NEW_SHARE * trained_on))
    corrections = model_store.corrections_since(uow, field, newest.trained_at)
    if corrections >= needed:
        return True
    return _labelled_since(uow, newest.trained_at, needed - corrections) >= needed - corrections


def _labelled_since(uow: UnitOfWork, since: datetime | None, enough: int) -> int:
    """Resolved or closed tickets changed after ``since``, counted up to ``enough``."""
    counted = 0
    after: dict[str, Any] | None = None
    while counted < enough:
        query = TicketQuery(
            statuses=("resolved", "closed"),
            updated_from=since,
            sort="id",
            descending=True,
            after=after,
            limit=min(500, enough - counted),
        )
        page = tickets.list_tickets(uow, query=query, actor=SYSTEM).items
        counted += len(page)
        if len(page) < query.limit:
            break
        after = {"id": page[-1].id}
    return counted


@dataclass(frozen=True, slots=True)
class _Plan:
    field: str
    examples: Examples
    active_accuracy: float | None


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: TrainingResult | None
    error: str = ""


def _prepare(uow: UnitOfWork, payload: Mapping[str, Any]) -> _Plan | None:
    from closeloop.routing.training import examples_from_tickets

    field = str(payload.get("field", ""))
    if field not in model_store.FIELDS:
        log.warning("routing.retrain_unknown_field", field=field)
        return None
    examples = examples_from_tickets(uow, fields=(field,))[field]
    if len(examples.texts) < FIRST_MODEL_EXAMPLES:
        log.info("routing.retrain_skipped", field=field, examples=len(examples.texts))
        return None
    active = model_store.active_model(uow, field)
    accuracy = None if active is None else active.metrics.get("accuracy")
    return _Plan(field, examples, None if accuracy is None else float(accuracy))


def _perform(plan: _Plan) -> _Outcome:
    from closeloop.routing.training import TrainingError, train

    try:
        return _Outcome(train(plan.examples))
    except TrainingError as error:
        return _Outcome(None, str(error))


def _finish(uow: UnitOfWork, plan: _Plan, outcome: _Outcome) -> Exception | None:
    from closeloop.routing.training import store

    if outcome.result is None:
        log.info("routing.retrain_refused", field=plan.field, reason=outcome.error)
        return None
    accuracy = outcome.result.evaluation.accuracy
    activate = plan.active_accuracy is None or accuracy >= plan.active_accuracy - (
        ACCURACY_TOLERANCE
    )
    stored = store(uow, outcome.result, activate=activate, via=VIA)
    log.info(
        "routing.retrained",
        field=plan.field,
        model_id=stored.id,
        accuracy=round(accuracy, 4),
        previous_accuracy=plan.active_accuracy,
        activated=activate,
        examples=outcome.result.trained_on["n_samples"],
    )
    return None


retrain_field: ExternalEffect[_Plan, _Outcome] = ExternalEffect(
    prepare=_prepare, perform=_perform, finish=_finish
)

TASKS: Mapping[str, AnyHandler] = {RETRAIN_TASK: retrain, RETRAIN_FIELD_TASK: retrain_field}
