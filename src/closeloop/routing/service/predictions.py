"""The classifier as intake sees it: the predictions it is confident enough about.

The classifier (``routing.classifier``, ``routing.training``, ``routing.model_store``:
training, the stored models and the per-field thresholds) is built on its own. Intake looks up
``predict_for_ticket(uow, *, subject, description) -> {field: Prediction(label, confidence,
model_id)}`` and ``thresholds(uow) -> {field: least confidence}`` in those modules when it runs,
so routing works, by rules alone, while no classifier is installed or no model is trained
(``{}``). A field without a threshold is never applied automatically. A classifier that fails
is logged and treated as having no opinion: a ticket is never lost to a prediction error.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger
from closeloop.routing.domain import RoutedField

CLASSIFIER_MODULE = "closeloop.routing.classifier"
# Where the classifier's entry points may live, looked up in this order.
CLASSIFIER_MODULES = (
    "closeloop.routing.model_store",
    CLASSIFIER_MODULE,
    "closeloop.routing.training",
)
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Guess:
    """A prediction above its field's threshold."""

    label: str
    confidence: float
    model_id: int
    threshold: float


def _entry_point(name: str) -> Any:
    """The first of the classifier modules' attribute ``name``, or None."""
    for module_name in CLASSIFIER_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        except Exception:  # a broken classifier must not stop the rules
            log.exception("routing.classifier_unavailable", module=module_name)
            continue
        found = getattr(module, name, None)
        if found is not None:
            return found
    return None


def confident_predictions(
    uow: UnitOfWork, *, subject: str, description: str, fields: frozenset[RoutedField]
) -> dict[RoutedField, Guess]:
    """Predictions for ``fields`` whose confidence reaches the field's threshold."""
    predict = _entry_point("predict_for_ticket")
    if predict is None or not fields:
        return {}
    try:
        predictions: Mapping[str, Any] = predict(uow, subject=subject, description=description)
        thresholds = _thresholds(uow) if predictions else {}
    except Exception:
        log.exception("routing.classifier_failed")
        return {}
    found: dict[RoutedField, Guess] = {}
    for field in fields:
        prediction = predictions.get(field.value)
        threshold = thresholds.get(field.value)
        if prediction is None or threshold is None:
            continue
        confidence = float(prediction.confidence)
        if confidence >= threshold:
            found[field] = Guess(
                label=str(prediction.label),
                confidence=confidence,
                model_id=int(prediction.model_id),
                threshold=threshold,
            )
    return found


def _thresholds(uow: UnitOfWork) -> dict[str, float]:
    """Field → the least confidence at which a prediction is applied (organisation settings,
    kept by the classifier)."""
    read = _entry_point("thresholds")
    if read is None:
        return {}
    return {str(field): float(value) for field, value in read(uow).items()}
