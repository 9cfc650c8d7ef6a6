"""Training the classifier: examples, a held-out split, metrics, the threshold, storing.

Examples come from the organisation's own resolved and closed tickets (subject, description and
first customer message; the label is the field's final value, so an agent's correction, which
``routing_feedback`` records, is what the model learns) or from a CSV export of another system
(a text column and a label column).

:func:`train` holds out a stratified share of the examples, fits on the rest, measures accuracy,
macro-F1, per-label precision/recall/F1, the confusion table and the precision/coverage curve
there, picks the lowest confidence threshold whose predictions reach the target precision
(95% by default), then fits again on every example: that model is stored, with the measurements
of the held-out fit. Fitting is pure (no database): the slow part never holds a transaction.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split
from sqlalchemy import column, select, table

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.db.session import UnitOfWork
from closeloop.routing import model_store
from closeloop.routing.classifier import (
    ALGORITHM,
    ClassifierParams,
    CurvePoint,
    TextClassifier,
    precision_coverage_curve,
    threshold_for_precision,
    ticket_text,
)
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketQuery

FIELDS = model_store.FIELDS
DEFAULT_TARGET_PRECISION = 0.95
HELD_OUT_SHARE = 0.2
SPLIT_SEED = 20261125
# Fewer examples than this teach nothing worth applying.
MIN_EXAMPLES = 30
# A label with fewer examples is left out (it cannot be both learnt and measured).
MIN_PER_LABEL = 5
# A threshold measured on fewer held-out predictions is noise: none is set (set one by hand).
MIN_HELD_OUT_FOR_THRESHOLD = 50
# The most recent labelled tickets a training reads (bounds its time and memory).
MAX_TICKETS = 30_000
_PAGE = 500
_LABELLED_STATUSES = ("resolved", "closed")


class TrainingError(ValueError):
    """Not enough, or not varied enough, examples to train on."""


@dataclass(frozen=True, slots=True)
class Examples:
    """Texts and labels of one field, and where they came from."""

    field: str
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    source: str
    # How many of the labels are an agent's correction of what routing had decided.
    corrected: int = 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a model scored on examples it was not fitted on."""

    accuracy: float
    macro_f1: float
    labels: tuple[str, ...]
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    curve: list[CurvePoint]
    n: int

    def at_precision(self, target: float) -> CurvePoint | None:
        return threshold_for_precision(self.curve, target)

    def to_json(self, target_precision: float) -> dict[str, Any]:
        point = self.at_precision(target_precision)
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "labels": list(self.labels),
            "per_class": self.per_class,
            "confusion": self.confusion,
            "n": self.n,
            "curve": [_point_json(p) for p in thin_curve(self.curve)],
            "at_target_precision": None if point is None else _point_json(point),
        }


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """A fitted classifier and what it was measured at."""

    field: str
    classifier: TextClassifier
    evaluation: Evaluation
    target_precision: float
    threshold: float | None
    threshold_chosen_by: str
    trained_on: dict[str, Any]
    fit_seconds: float
    left_out: dict[str, int]

    def thresholds_json(self) -> dict[str, Any]:
        point = self.evaluation.at_precision(self.target_precision)
        return {
            "value": self.threshold,
            "target_precision": self.target_precision,
            "chosen_by": self.threshold_chosen_by,
            "held_out_precision": None if point is None else point.precision,
            "held_out_coverage": None if point is None else point.coverage,
        }


# --- examples ------------------------------------------------------------------------------------


def examples_from_tickets(
    uow: UnitOfWork, *, fields: Sequence[str] = FIELDS, limit: int = MAX_TICKETS
) -> dict[str, Examples]:
    """The most recent resolved and closed tickets (merged ones left out), per field."""
    texts: dict[str, list[str]] = {name: [] for name in fields}
    labels: dict[str, list[str]] = {name: [] for name in fields}
    corrected: Counter[str] = Counter()
    after: dict[str, Any] | None = None
    seen = 0
    while seen < limit:
        query = TicketQuery(
            statuses=_LABELLED_STATUSES,
            sort="id",
            descending=True,
            after=after,
            limit=min(_PAGE, limit - seen),
        )
        page = tickets.list_tickets(uow, query=query, actor=SYSTEM).items
        if not page:
            break
        seen += len(page)
        after = {"id": page[-1].id}
        kept = [ticket for ticket in page if ticket.merged_into_id is None]
        ids = [ticket.id for ticket in kept]
        first_messages = _first_customer_messages(uow, ids)
        corrections = model_store.corrected_fields(uow, ids)
        for ticket in kept:
            text = ticket_text(
                ticket.subject, ticket.description, first_messages.get(ticket.id, "")
            )
            values = {
                "type": ticket.type,
                "priority": ticket.priority,
                "team": None if ticket.team_id is None else str(ticket.team_id),
            }
            for name in fields:
                value = values[name]
                if value is None or not text:
                    continue
                texts[name].append(text)
                labels[name].append(value)
                if name in corrections.get(ticket.id, ()):
                    corrected[name] += 1
        if len(page) < query.limit:
            break
    return {
        name: Examples(
            field=name,
            texts=tuple(texts[name]),
            labels=tuple(labels[name]),
            source="tickets",
            corrected=corrected[name],
        )
        for name in fields
    }


def _first_customer_messages(uow: UnitOfWork, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Each ticket's first customer message, in one query for the whole page.

    A read of the tickets feature's ``messages`` table by name: its service reads one ticket's
    thread at a time (with permission checks and attachments), three queries per ticket, and
    training reads tens of thousands. Move this into ``tickets.service`` when it grows a bulk
    read."""
    if not ticket_ids:
        return {}
    messages = table(
        "messages", column("id"), column("ticket_id"), column("kind"), column("body_text")
    )
    rows = uow.session.execute(
        select(messages.c.ticket_id, messages.c.body_text)
        .where(
            messages.c.ticket_id.in_(sorted(ticket_ids)),
            messages.c.kind == "customer_message",
        )
        .order_by(messages.c.ticket_id, messages.c.id)
    )
    first: dict[int, str] = {}
    for ticket_id, body in rows:
        first.setdefault(int(ticket_id), str(body or ""))
    return first


def examples_from_csv(
    path: Path, *, field: str, text_column: str = "text", label_column: str = "team"
) -> Examples:
    """A CSV export (UTF-8, a header row): one example per row with a text and a label."""
    texts: list[str] = []
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise TrainingError(f"{path.name}: no column {', '.join(sorted(missing))}")
        for row in reader:
            text = (row.get(text_column) or "").strip()
            label = (row.get(label_column) or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    return Examples(
        field=field, texts=tuple(texts), labels=tuple(labels), source=f"csv:{path.name}"
    )


# --- fitting and measuring -----------------------------------------------------------------------


def evaluate(classifier: TextClassifier, texts: Sequence[str], labels: Sequence[str]) -> Evaluation:
    """Accuracy, macro-F1, per-label scores, the confusion table and the precision/coverage
    curve of ``classifier`` on these examples."""
    predictions = classifier.predict(texts)
    predicted = [label for label, _confidence in predictions]
    confidences = np.array([confidence for _label, confidence in predictions])
    truth = list(labels)
    classes = sorted(set(classifier.classes) | set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes)
    }
    correct = np.array(predicted, dtype=object) == np.array(truth, dtype=object)
    return Evaluation(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=classes, average="macro")),
        labels=tuple(classes),
        per_class=per_class,
        confusion=confusion_matrix(truth, predicted, labels=classes).tolist(),
        curve=precision_coverage_curve(confidences, correct),
        n=len(truth),
    )


def train(
    examples: Examples,
    *,
    params: ClassifierParams | None = None,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    held_out_share: float = HELD_OUT_SHARE,
    min_held_out_for_threshold: int = MIN_HELD_OUT_FOR_THRESHOLD,
    refit: bool = True,
) -> TrainingResult:
    """Fit on (1 - ``held_out_share``) of the examples, measure on the rest, choose the
    threshold for ``target_precision``; then (``refit``) fit on every example."""
    if not 0.0 < target_precision <= 1.0:
        raise TrainingError("the target precision is a share between 0 and 1")
    params = params or ClassifierParams()
    texts, labels, left_out = _usable(examples)
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        list(texts),
        list(labels),
        test_size=held_out_share,
        stratify=list(labels),
        random_state=SPLIT_SEED,
    )
    started = time.perf_counter()
    classifier = TextClassifier(params).fit(train_texts, train_labels)
    fit_seconds = time.perf_counter() - started
    evaluation = evaluate(classifier, test_texts, test_labels)
    point = evaluation.at_precision(target_precision)
    threshold = (
        point.threshold
        if point is not None and evaluation.n >= min_held_out_for_threshold
        else None
    )
    if refit:
        classifier = TextClassifier(params).fit(texts, labels)
    return TrainingResult(
        field=examples.field,
        classifier=classifier,
        evaluation=evaluation,
        target_precision=target_precision,
        threshold=threshold,
        threshold_chosen_by="held_out",
        trained_on={
            "source": examples.source,
            "n_samples": len(texts) if refit else len(train_texts),
            "n_train": len(train_texts),
            "n_test": len(test_texts),
            "corrected": examples.corrected,
            "labels": dict(sorted(Counter(labels).items())),
            "left_out": left_out,
            "refit_on_all": refit,
        },
        fit_seconds=fit_seconds,
        left_out=left_out,
    )


def _usable(examples: Examples) -> tuple[list[str], list[str], dict[str, int]]:
    counts = Counter(examples.labels)
    left_out = {label: n for label, n in sorted(counts.items()) if n < MIN_PER_LABEL}
    pairs = [
        (text, label)
        for text, label in zip(examples.texts, examples.labels, strict=True)
        if label not in left_out
    ]
    if len(pairs) < MIN_EXAMPLES:
        raise TrainingError(
            f"{examples.field}: {len(pairs)} usable examples, at least {MIN_EXAMPLES} needed"
        )
    if len({label for _text, label in pairs}) < 2:
        raise TrainingError(f"{examples.field}: every usable example has the same label")
    return [text for text, _ in pairs], [label for _, label in pairs], left_out


def store(
    uow: UnitOfWork,
    result: TrainingResult,
    *,
    activate: bool,
    threshold: float | None = None,
    actor: Principal = SYSTEM,
    via: str,
) -> model_store.ModelSummary:
    """Save the trained model (with ``threshold`` instead of the measured one when given)."""
    thresholds = result.thresholds_json()
    if threshold is not None:
        thresholds = {**thresholds, "value": threshold, "chosen_by": "manual"}
    return model_store.save_model(
        uow,
        field=result.field,
        classifier=result.classifier,
        metrics={
            **result.evaluation.to_json(result.target_precision),
            "fit_seconds": round(result.fit_seconds, 3),
        },
        thresholds=thresholds,
        trained_on=result.trained_on,
        activate=activate,
        actor=actor,
        via=via,
    )


# --- reporting -----------------------------------------------------------------------------------


def thin_curve(curve: Sequence[CurvePoint], step: float = 0.01) -> list[CurvePoint]:
    """At most one point per ``step`` of coverage (the last of each), for storing."""
    thinned: dict[int, CurvePoint] = {}
    for point in curve:
        thinned[round(point.coverage / step)] = point
    return [thinned[key] for key in sorted(thinned)]


def _point_json(point: CurvePoint) -> dict[str, float]:
    return {
        "threshold": round(point.threshold, 6),
        "coverage": round(point.coverage, 6),
        "precision": round(point.precision, 6),
    }


def format_report(result: TrainingResult, *, label_names: Mapping[str, str] | None = None) -> str:
    """A plain-text report: figures, per-label scores, the confusion table, the curve."""
    names = label_names or {}
    evaluation = result.evaluation
    shown = [names.get(label, label) for label in evaluation.labels]
    width = max(8, *(len(name) for name in shown))
    trained_on = result.trained_on
    lines = [
        f"field {result.field}: {ALGORITHM}",
        f"  examples {trained_on['n_samples']} from {trained_on['source']}"
        f" (held out {trained_on['n_test']}, corrected by agents {trained_on['corrected']})",
        f"  accuracy {evaluation.accuracy:.4f}   macro-F1 {evaluation.macro_f1:.4f}"
        f"   fit {result.fit_seconds:.1f} s on {trained_on['n_train']}",
    ]
    if result.left_out:
        lines.append(f"  left out (fewer than {MIN_PER_LABEL} examples): {result.left_out}")
    lines.append("")
    lines.append(f"  {'label':<{width}}  precision  recall      f1  support")
    for label, name in zip(evaluation.labels, shown, strict=True):
        scores = evaluation.per_class[label]
        lines.append(
            f"  {name:<{width}}  {scores['precision']:9.3f}  {scores['recall']:6.3f}"
            f"  {scores['f1']:6.3f}  {int(scores['support']):7d}"
        )
    lines.append("")
    lines.append("  confusion (rows: true label, columns: predicted, in the order above)")
    for name, row in zip(shown, evaluation.confusion, strict=True):
        lines.append(f"  {name:<{width}}  " + " ".join(f"{count:6d}" for count in row))
    lines.append("")
    lines.append("  precision / coverage (predictions at or above the threshold)")
    lines.append("  threshold  coverage  precision")
    for shown_point in report_points(evaluation.curve):
        lines.append(
            f"  {shown_point.threshold:9.3f}  {shown_point.coverage:8.3f}"
            f"  {shown_point.precision:9.3f}"
        )
    target = result.target_precision
    point = evaluation.at_precision(target)
    if result.threshold is None:
        reason = (
            "no threshold reaches it"
            if point is None
            else f"only {evaluation.n} held-out examples (at least {MIN_HELD_OUT_FOR_THRESHOLD})"
        )
        lines.append(f"  threshold for {target:.0%} precision: none set ({reason})")
    elif point is not None:
        lines.append(
            f"  threshold for {target:.0%} precision: {result.threshold:.3f}"
            f" (covers {point.coverage:.1%} at {point.precision:.1%} precision)"
        )
    return "\n".join(lines)


def report_points(curve: Sequence[CurvePoint]) -> list[CurvePoint]:
    """The curve at coverages 50%, 60% ... 100%."""
    wanted = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
    points: list[CurvePoint] = []
    for coverage in wanted:
        point = next((p for p in curve if p.coverage >= coverage - 1e-9), None)
        if point is not None and point not in points:
            points.append(point)
    return points
