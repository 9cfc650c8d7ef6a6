"""The classifier as intake sees it: the predictions it is confident enough about.

The classifier (``routing.classifier``: training, the stored models and per-field thresholds)
is built on its own; intake looks it up when it runs, so routing works, by rules alone, while
no classifier is installed or no model is trained. A classifier that fails is logged and
treated as having no opinion: a ticket is never lost to a prediction error.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger
from closeloop.routing.domain import RoutedField

CLASSIFIER_MODULE = "closeloop.routing.classifier"
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Guess:
    """A prediction above its field's threshold."""

    label: str
    confidence: float
    model_id: int
    threshold: float


def _classifier() -> ModuleType | None:
    try:
        return importlib.import_module(CLASSIFIER_MODULE)
    except ImportError:
        return None


def confident_predictions(
    uow: UnitOfWork, *, subject: str, description: str, fields: frozenset[RoutedField]
) -> dict[RoutedField, Guess]:
    """Predictions for ``fields`` whose confidence reaches the field's threshold."""
    module = _classifier()
    predict = getattr(module, "predict_for_ticket", None)
    if module is None or predict is None or not fields:
        return {}
    try:
        predictions: Mapping[str, Any] = predict(uow, subject=subject, description=description)
        thresholds = _thresholds(module, uow) if predictions else {}
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


def _thresholds(module: ModuleType, uow: UnitOfWork) -> dict[str, float]:
    """Field → the least confidence at which a prediction is applied (organisation settings,
    kept by the classifier). A field without a threshold is never applied automatically."""
    read = getattr(module, "thresholds", None)
    if read is None:
        return {}
    return {str(field): float(value) for field, value in read(uow).items()}
