"""The routing classifier on the public IT ticket corpus: accuracy, macro-F1, coverage at 95%
precision (and the precision/coverage curve), training time and single-ticket prediction
latency, each with a PASS/MISS line against the target of issue 5.

    .venv/bin/python bench/routing_classifier.py [--corpus DIR] [--predictions 1000]

The corpus (``it_tickets_train.csv``, ``it_tickets_validation.csv``: columns text, team) is
read from ``../shared/corpora/tickets`` beside the repository; without it the script says so and
exits 0. Nothing is copied into the repository.

Two fits of the production pipeline (``closeloop.routing.classifier``, default parameters):

- **A**, on the whole train split, timed: accuracy and macro-F1 on validation; the threshold for
  95% precision is chosen on validation and the coverage there is reported with the curve.
- **B**, on the train split less a held-out tenth (stratified, fixed seed) that no choice ever
  looked at: accuracy on validation and on that tenth; B's threshold for 95% precision, chosen on
  validation, is applied unchanged to the tenth, which reports the precision and coverage it
  really gets (the "tickets the team has not seen" repetition).

Latency: model A is stored and activated in a SQLite database under ``var/bench/routing/`` and
tickets are predicted one at a time through ``model_store.predict_for_ticket``, the function
intake calls (cache lookup, features, SVM, calibration, threshold).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.routing import model_store
from closeloop.routing.classifier import (
    ALGORITHM,
    ClassifierParams,
    CurvePoint,
    TextClassifier,
    threshold_for_precision,
)
from closeloop.routing.training import Evaluation, evaluate, report_points
from harness import BENCH_DIR, REPO_ROOT, percentile

CORPUS = REPO_ROOT.parent / "shared" / "corpora" / "tickets"
HOLDOUT_SHARE = 0.1
HOLDOUT_SEED = 20261125
TARGET_ACCURACY = 0.88
TARGET_PRECISION = 0.95
TARGET_COVERAGE = 0.80
TARGET_FIT_SECONDS = 60.0
TARGET_P95_MS = 5.0


def load(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["team"] for row in rows]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def show_curve(title: str, curve: list[CurvePoint]) -> None:
    print(f"  {title}")
    print("    threshold  coverage  precision")
    for point in report_points(curve):
        print(f"    {point.threshold:9.3f}  {point.coverage:8.3f}  {point.precision:9.3f}")


def show_evaluation(name: str, evaluation: Evaluation) -> CurvePoint | None:
    point = threshold_for_precision(evaluation.curve, TARGET_PRECISION)
    coverage = (
        "none" if point is None else f"{point.coverage:.3f} (threshold {point.threshold:.3f})"
    )
    print(
        f"  {name}: accuracy {evaluation.accuracy:.4f}  macro-F1 {evaluation.macro_f1:.4f}"
        f"  n {evaluation.n}  coverage at {TARGET_PRECISION:.0%} precision {coverage}"
    )
    return point


def at_threshold(
    classifier: TextClassifier, texts: list[str], labels: list[str], threshold: float
) -> tuple[float, float]:
    """(coverage, precision) of ``classifier`` on these examples at a fixed threshold."""
    predictions = classifier.predict(texts)
    chosen = [
        (label, truth)
        for (label, confidence), truth in zip(predictions, labels, strict=True)
        if confidence >= threshold
    ]
    coverage = len(chosen) / len(labels)
    precision = sum(label == truth for label, truth in chosen) / len(chosen) if chosen else 0.0
    return coverage, precision


def latency(classifier: TextClassifier, threshold: float, texts: list[str]) -> list[float]:
    """Milliseconds of ``predict_for_ticket`` per ticket, model stored in a fresh database."""
    folder = BENCH_DIR / "routing"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    engine = create_database_engine(f"sqlite:///{folder / 'closeloop.sqlite3'}")
    migrate.upgrade(engine)
    factory = create_session_factory(engine)
    with UnitOfWork(factory) as uow:
        model_store.save_model(
            uow,
            field="team",
            classifier=classifier,
            metrics={},
            thresholds={"value": threshold},
            trained_on={},
            activate=True,
            via="bench",
        )
        uow.commit()
    model_store.forget_cached_models()
    timings: list[float] = []
    with UnitOfWork(create_session_factory(engine, read_only=True), read_only=True) as uow:
        for text in texts[:50]:  # warm-up: loads the model into the cache
            model_store.predict_for_ticket(uow, subject=text, description="")
        for text in texts:
            started = time.perf_counter()
            model_store.predict_for_ticket(uow, subject=text, description="")
            timings.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--predictions", type=int, default=1000)
    args = parser.parse_args()
    train_path = args.corpus / "it_tickets_train.csv"
    validation_path = args.corpus / "it_tickets_validation.csv"
    if not train_path.exists() or not validation_path.exists():
        print(f"corpus not found under {args.corpus}: nothing measured")
        return 0

    train_texts, train_labels = load(train_path)
    validation_texts, validation_labels = load(validation_path)
    fit_texts, holdout_texts, fit_labels, holdout_labels = train_test_split(
        train_texts,
        train_labels,
        test_size=HOLDOUT_SHARE,
        stratify=train_labels,
        random_state=HOLDOUT_SEED,
    )
    params = ClassifierParams()
    print(f"pipeline: {ALGORITHM}")
    print(f"params: {params.to_json()}")
    print(
        f"corpus: train {len(train_texts)}, validation {len(validation_texts)};"
        f" B fits on {len(fit_texts)} and keeps {len(holdout_texts)} unseen"
    )
    print()

    started, cpu_started = time.perf_counter(), time.process_time()
    model_a = TextClassifier(params).fit(train_texts, train_labels)
    fit_seconds = time.perf_counter() - started
    print(
        f"A: fit on the whole train split ({len(train_texts)}) in {fit_seconds:.1f} s"
        f" (CPU {time.process_time() - cpu_started:.1f} s; more wall than CPU: a busy machine)"
    )
    validation_a = evaluate(model_a, validation_texts, validation_labels)
    point_a = show_evaluation("A on validation", validation_a)
    show_curve("A on validation: precision / coverage", validation_a.curve)
    print()

    started = time.perf_counter()
    model_b = TextClassifier(params).fit(fit_texts, fit_labels)
    print(
        f"B: fit on train less the unseen tenth ({len(fit_texts)}) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    validation_b = evaluate(model_b, validation_texts, validation_labels)
    point_b = show_evaluation("B on validation", validation_b)
    holdout_b = evaluate(model_b, holdout_texts, holdout_labels)
    show_evaluation("B on the unseen tenth (threshold chosen there: optimistic)", holdout_b)
    holdout_coverage, holdout_precision = (
        at_threshold(model_b, holdout_texts, holdout_labels, point_b.threshold)
        if point_b is not None
        else (0.0, 0.0)
    )
    if point_b is not None:
        print(
            f"  B on the unseen tenth at the validation threshold {point_b.threshold:.3f}:"
            f" coverage {holdout_coverage:.3f}, precision {holdout_precision:.3f}"
        )
    show_curve("B on the unseen tenth: precision / coverage", holdout_b.curve)
    print()

    texts = validation_texts[: args.predictions]
    timings = latency(model_a, point_a.threshold if point_a is not None else 1.0, texts)
    p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
    print(
        f"prediction through model_store.predict_for_ticket, one ticket at a time"
        f" ({len(timings)}): p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(timings):.2f} ms"
    )
    print()

    coverage_a = point_a.coverage if point_a is not None else 0.0
    coverage_b = point_b.coverage if point_b is not None else 0.0
    lines = [
        (
            validation_a.accuracy >= TARGET_ACCURACY,
            f"team top-1 accuracy on validation (A) {validation_a.accuracy:.4f}"
            f" >= {TARGET_ACCURACY}",
        ),
        (
            holdout_b.accuracy >= TARGET_ACCURACY,
            f"team top-1 accuracy on the unseen tenth (B) {holdout_b.accuracy:.4f}"
            f" >= {TARGET_ACCURACY}",
        ),
        (
            coverage_a >= TARGET_COVERAGE,
            f"routed at {TARGET_PRECISION:.0%} precision on validation (A) {coverage_a:.3f}"
            f" >= {TARGET_COVERAGE}",
        ),
        (
            coverage_b >= TARGET_COVERAGE
            and holdout_coverage >= TARGET_COVERAGE
            and holdout_precision >= TARGET_PRECISION,
            f"routed on the unseen tenth at B's validation threshold {holdout_coverage:.3f}"
            f" at precision {holdout_precision:.3f} (>= {TARGET_COVERAGE} at"
            f" >= {TARGET_PRECISION})",
        ),
        (
            fit_seconds < TARGET_FIT_SECONDS,
            f"training on the whole train split {fit_seconds:.1f} s < {TARGET_FIT_SECONDS:.0f} s",
        ),
        (p95 < TARGET_P95_MS, f"prediction p95 {p95:.2f} ms < {TARGET_P95_MS} ms"),
    ]
    for ok, text in lines:
        print(f"{verdict(ok)}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
