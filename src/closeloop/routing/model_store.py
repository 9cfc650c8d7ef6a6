"""The classifier's models in the database, and the predictions intake asks for.

One row of ``routing_models`` per trained model of one field (type, priority or team): the
pickled classifier (``blob``) with its SHA-256, the parameters, the metrics measured on the
held-out split, the threshold and when and on what it was trained. At most one model per field
is active; :func:`predict_for_ticket` answers with the active ones.

Trust boundary: a blob is a pickle, and unpickling runs code named in it. Only blobs this
server wrote are loaded (``closeloop train`` and the ``routing.retrain`` job are the only
writers; no API accepts a model), and the SHA-256 stored beside each blob is checked before
unpickling, so a truncated or altered blob is refused. The hash lives in the same row, so it
does not protect against someone who can write to the database: write access to the database
is as good as running code on the server, as it is for any server whose data includes code.
A blob written by another scikit-learn version is not loaded (the field predicts nothing until
the next training).

The loaded models are cached in the process, keyed by model id and hash; which model is active
(and its threshold) is read again at most every 30 seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    LargeBinary,
    String,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit import service as audit
from closeloop.audit.service import Change
from closeloop.db.base import Base, JSONDocument
from closeloop.db.session import UnitOfWork
from closeloop.kit.logging import get_logger
from closeloop.routing.models import RoutingFeedback

if TYPE_CHECKING:
    from closeloop.routing.classifier import TextClassifier

ENTITY = "routing_model"
FIELDS = ("type", "priority", "team")
REFRESH_SECONDS = 30.0
log = get_logger(__name__)


class RoutingModel(Base):
    """A trained classifier for one ticket field."""

    __tablename__ = "routing_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(20))
    algorithm: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # accuracy, macro_f1, per_class, labels, confusion, curve (precision/coverage) on the
    # held-out split.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # value (None: never applied automatically), target_precision, chosen_by, and the
    # precision and coverage the value had on the held-out split.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    trained_at: Mapped[datetime]
    # n_samples, n_train, n_test, source ("tickets" or "csv:<file name>"), corrected, labels.
    trained_on: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    blob_sha256: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_routing_models_field_active", "field", "is_active", "id"),
        CheckConstraint("field in ('type', 'priority', 'team')", name="field"),
    )


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one field of a new ticket."""

    label: str
    confidence: float
    model_id: int


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A stored model without its blob."""

    id: int
    field: str
    algorithm: str
    trained_at: datetime
    trained_on: dict[str, Any]
    metrics: dict[str, Any]
    thresholds: dict[str, Any]
    is_active: bool

    @property
    def threshold(self) -> float | None:
        value = self.thresholds.get("value")
        return None if value is None else float(value)


def sha256_of(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


# --- writing -------------------------------------------------------------------------------------


def save_model(
    uow: UnitOfWork,
    *,
    field: str,
    classifier: TextClassifier,
    metrics: dict[str, Any],
    thresholds: dict[str, Any],
    trained_on: dict[str, Any],
    activate: bool,
    actor: Principal = SYSTEM,
    via: str,
) -> ModelSummary:
    """Store a fitted classifier (and make it the field's active model when asked)."""
    from closeloop.routing.classifier import ALGORITHM

    if field not in FIELDS:
        raise ValueError(f"no classifier for the field {field!r}")
    blob = classifier.to_bytes()
    row = RoutingModel(
        field=field,
        algorithm=ALGORITHM,
        params={
            **classifier.params.to_json(),
            "format_version": classifier.format_version,
            "sklearn_version": classifier.sklearn_version,
        },
        metrics=metrics,
        thresholds=thresholds,
        trained_at=uow.clock.now(),
        trained_on=trained_on,
        blob=blob,
        blob_sha256=sha256_of(blob),
        is_active=False,
    )
    uow.session.add(row)
    uow.session.flush()
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=row.id,
        action="routing_model.trained",
        actor=accounts.actor_of(actor),
        via=via,
        changes=[
            Change("field", None, field),
            Change("accuracy", None, metrics.get("accuracy")),
            Change("threshold", None, thresholds.get("value")),
        ],
        new_entity=True,
    )
    if activate:
        activate_model(uow, model_id=row.id, actor=actor, via=via)
    return _summary(row)


def activate_model(
    uow: UnitOfWork, *, model_id: int, actor: Principal = SYSTEM, via: str
) -> ModelSummary:
    """Make the model its field's only active one."""
    row = _row(uow, model_id)
    uow.session.execute(
        update(RoutingModel)
        .where(RoutingModel.field == row.field, RoutingModel.id != row.id)
        .where(RoutingModel.is_active.is_(True))
        .values(is_active=False)
    )
    if not row.is_active:
        row.is_active = True
        audit.record(
            uow,
            entity_type=ENTITY,
            entity_id=row.id,
            action="routing_model.activated",
            actor=accounts.actor_of(actor),
            via=via,
            changes=[Change("is_active", False, True)],
        )
    uow.session.flush()
    _changed(uow)
    return _summary(row)


def set_threshold(
    uow: UnitOfWork,
    *,
    model_id: int,
    value: float | None,
    actor: Principal = SYSTEM,
    via: str,
) -> ModelSummary:
    """Override the confidence a prediction needs to be applied (None: never applied)."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError("a threshold is a probability, between 0 and 1")
    row = _row(uow, model_id)
    old = row.thresholds.get("value")
    row.thresholds = {**row.thresholds, "value": value, "chosen_by": "manual"}
    audit.record(
        uow,
        entity_type=ENTITY,
        entity_id=row.id,
        action="routing_model.threshold_set",
        actor=accounts.actor_of(actor),
        via=via,
        changes=[Change("threshold", old, value)],
    )
    uow.session.flush()
    _changed(uow)
    return _summary(row)


# --- reading -------------------------------------------------------------------------------------


def list_models(uow: UnitOfWork, *, field: str | None = None) -> list[ModelSummary]:
    """Stored models, newest first."""
    query = select(RoutingModel).order_by(RoutingModel.id.desc())
    if field is not None:
        query = query.where(RoutingModel.field == field)
    return [_summary(row) for row in uow.session.scalars(query)]


def active_model(uow: UnitOfWork, field: str) -> ModelSummary | None:
    row = uow.session.scalars(
        select(RoutingModel)
        .where(RoutingModel.field == field, RoutingModel.is_active.is_(True))
        .order_by(RoutingModel.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _summary(row)


def load_classifier(uow: UnitOfWork, model_id: int) -> TextClassifier:
    """The stored classifier, after checking its hash (see the trust boundary above)."""
    from closeloop.routing.classifier import TextClassifier

    row = uow.session.execute(
        select(RoutingModel.blob, RoutingModel.blob_sha256).where(RoutingModel.id == model_id)
    ).first()
    if row is None:
        raise LookupError(f"no routing model {model_id}")
    blob, expected = bytes(row.blob), row.blob_sha256
    if sha256_of(blob) != expected:
        raise ValueError(f"routing model {model_id}: the blob does not match its SHA-256")
    return TextClassifier.from_bytes(blob)


def corrected_fields(uow: UnitOfWork, ticket_ids: Sequence[int]) -> dict[int, set[str]]:
    """Ticket → the fields an agent corrected after routing decided them (``routing_feedback``)."""
    found: dict[int, set[str]] = {}
    if ticket_ids:
        rows = uow.session.execute(
            select(RoutingFeedback.ticket_id, RoutingFeedback.field).where(
                RoutingFeedback.ticket_id.in_(sorted(ticket_ids))
            )
        )
        for ticket_id, field in rows:
            found.setdefault(int(ticket_id), set()).add(str(field))
    return found


def corrections_since(uow: UnitOfWork, field: str, since: datetime) -> int:
    """How many corrections of ``field`` agents made after ``since``."""
    count = uow.session.scalar(
        select(func.count())
        .select_from(RoutingFeedback)
        .where(RoutingFeedback.field == field, RoutingFeedback.at > since)
    )
    return int(count or 0)


def thresholds(uow: UnitOfWork) -> dict[str, float]:
    """Field → the confidence a prediction of the active model needs to be applied. A field
    without an active model, or whose threshold is unset, is absent."""
    return {
        field: loaded.threshold
        for field, loaded in _CACHE.active(uow).items()
        if loaded.threshold is not None
    }


def predict_for_ticket(uow: UnitOfWork, *, subject: str, description: str) -> dict[str, Prediction]:
    """The active models' predictions for a new ticket, only those at or above their field's
    threshold; {} when no model is active."""
    from closeloop.routing.classifier import ticket_text

    text = ticket_text(subject, description)
    found: dict[str, Prediction] = {}
    for field, loaded in _CACHE.active(uow).items():
        if loaded.threshold is None or loaded.classifier is None:
            continue
        label, confidence = loaded.classifier.predict_one(text)
        if confidence >= loaded.threshold:
            found[field] = Prediction(label=label, confidence=confidence, model_id=loaded.model_id)
    return found


def forget_cached_models() -> None:
    """Drop the process's cache (the next prediction reads the active models again)."""
    _CACHE.clear()


# --- the in-process cache ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loaded:
    model_id: int
    sha256: str
    threshold: float | None
    classifier: TextClassifier | None  # None: the blob could not be loaded


@dataclass(slots=True)
class _DatabaseState:
    checked_at: float
    active: dict[str, _Loaded]


class ModelCache:
    """Loaded classifiers by (model id, hash), and the active set per database, re-read at
    most every ``refresh_seconds``."""

    def __init__(
        self,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._states: dict[str, _DatabaseState] = {}

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def forget(self, database: str) -> None:
        with self._lock:
            self._states.pop(database, None)

    def active(self, uow: UnitOfWork) -> dict[str, _Loaded]:
        database = database_key(uow)
        now = self._monotonic()
        with self._lock:
            state = self._states.get(database)
            if state is not None and now - state.checked_at < self.refresh_seconds:
                return state.active
            previous = state.active if state is not None else {}
            state = _DatabaseState(checked_at=now, active=self._read(uow, previous))
            self._states[database] = state
            return state.active

    def _read(self, uow: UnitOfWork, previous: dict[str, _Loaded]) -> dict[str, _Loaded]:
        rows = uow.session.execute(
            select(
                RoutingModel.id,
                RoutingModel.field,
                RoutingModel.blob_sha256,
                RoutingModel.thresholds,
                RoutingModel.params,
            )
            .where(RoutingModel.is_active.is_(True))
            .order_by(RoutingModel.id)
        ).all()
        by_key = {(loaded.model_id, loaded.sha256): loaded for loaded in previous.values()}
        active: dict[str, _Loaded] = {}
        for model_id, field, sha256, threshold_data, params in rows:  # the newest active wins
            value = (threshold_data or {}).get("value")
            threshold = None if value is None else float(value)
            cached = by_key.get((model_id, sha256))
            if cached is not None:
                classifier = cached.classifier
            else:
                classifier = self._load(uow, model_id, (params or {}).get("sklearn_version"))
            active[field] = _Loaded(model_id, sha256, threshold, classifier)
        return active

    @staticmethod
    def _load(uow: UnitOfWork, model_id: int, trained_with: object) -> TextClassifier | None:
        import sklearn

        if trained_with != sklearn.__version__:
            # A pickle of another scikit-learn may load wrongly or not at all: retrain.
            log.warning(
                "routing.model_of_other_sklearn",
                model_id=model_id,
                trained_with=trained_with,
                running=sklearn.__version__,
            )
            return None
        try:
            return load_classifier(uow, model_id)
        except Exception:
            log.exception("routing.model_not_loaded", model_id=model_id)
            return None


_CACHE = ModelCache()


def database_key(uow: UnitOfWork) -> str:
    """Which database the unit of work talks to (a process may talk to several)."""
    return uow.session.get_bind().engine.url.render_as_string(hide_password=True)


def _changed(uow: UnitOfWork) -> None:
    """This process sees a new active model or threshold at once (others within 30 s)."""
    database = database_key(uow)
    _CACHE.forget(database)
    uow.after_commit(lambda: _CACHE.forget(database))


def _row(uow: UnitOfWork, model_id: int) -> RoutingModel:
    row = uow.session.get(RoutingModel, model_id)
    if row is None:
        raise LookupError(f"no routing model {model_id}")
    return row


def _summary(row: RoutingModel) -> ModelSummary:
    return ModelSummary(
        id=row.id,
        field=row.field,
        algorithm=row.algorithm,
        trained_at=row.trained_at,
        trained_on=dict(row.trained_on),
        metrics=dict(row.metrics),
        thresholds=dict(row.thresholds),
        is_active=row.is_active,
    )
