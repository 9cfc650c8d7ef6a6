"""Training the classifier on SQLite and PostgreSQL: examples from resolved tickets (with the
first customer message and agents' corrections), storing and activating models, predictions at
intake above and below the threshold, a CSV export, a tampered blob, scheduled retraining and
the `closeloop train` command."""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from tests.builders import customer_principal, make_customer, make_team

from closeloop.accounts.domain import SYSTEM
from closeloop.accounts.models import Team
from closeloop.audit import service as audit
from closeloop.cli import main
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.jobs.models import Job
from closeloop.routing import model_store, tasks, training
from closeloop.routing.model_store import Prediction, RoutingModel
from closeloop.routing.models import RoutingFeedback
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import MessageKind, TicketStatus
from closeloop.tickets.schemas import MessageCreate, TicketCreate

# What each team's tickets talk about, in both languages.
TOPICS = {
    "network": (["VPN 断开", "无法上网", "wifi down", "network slow", "网络 延迟"], "fault", "P2"),
    "printing": (["打印机 卡纸", "printer offline", "无法打印", "toner empty"], "request", "P3"),
    "accounts": (["密码 重置", "password reset", "账号 锁定", "cannot log in"], "inquiry", "P4"),
}


@pytest.fixture(autouse=True)
def no_cached_models() -> Iterator[None]:
    model_store.forget_cached_models()
    yield
    model_store.forget_cached_models()


def desk(uow: UnitOfWork, per_team: int, *, seed: int = 0) -> dict[str, Team]:
    """Three teams and ``per_team`` resolved tickets each, worded after the team's topic."""
    generator = random.Random(seed)
    teams = {name: make_team(uow, name=f"{name}-{seed}") for name in TOPICS}
    customer = make_customer(uow)
    opened: list[int] = []
    for number in range(per_team * len(TOPICS)):
        name = sorted(TOPICS)[number % len(TOPICS)]
        phrases, ticket_type, priority = TOPICS[name]
        subject, detail = generator.sample(phrases, 2)
        ticket = tickets.open_ticket(
            uow,
            data=TicketCreate(
                subject=subject,
                description=f"{detail} 请帮忙 please help",
                type=ticket_type,
                priority=priority,
                requester_id=customer.id,
                team_id=teams[name].id,
            ),
            actor=SYSTEM,
            via="test",
        )
        opened.append(ticket.id)
    uow.commit()
    for ticket_id in opened:
        resolve(uow, ticket_id)
    uow.commit()
    return teams


def resolve(uow: UnitOfWork, ticket_id: int) -> None:
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    tickets.transition(
        uow,
        ticket_id=ticket_id,
        target=TicketStatus.resolved,
        pending_reason=None,
        expected_version=ticket.version,
        actor=SYSTEM,
        via="test",
    )


def test_examples_are_resolved_tickets_with_their_first_customer_message_and_corrections(
    uow: UnitOfWork,
) -> None:
    teams = desk(uow, 2)
    customer = make_customer(uow)
    still_open = tickets.open_ticket(
        uow,
        data=TicketCreate(
            subject="not done", requester_id=customer.id, team_id=teams["network"].id
        ),
        actor=SYSTEM,
        via="test",
    )
    answered = tickets.open_ticket(
        uow,
        data=TicketCreate(
            subject="VPN", description="断开", requester_id=customer.id, team_id=teams["network"].id
        ),
        actor=SYSTEM,
        via="test",
    )
    for body in ("still broken since 9:00", "a second message"):
        tickets.add_message(
            uow,
            ticket_id=answered.id,
            data=MessageCreate(kind=MessageKind.customer_message, body=body),
            actor=customer_principal(customer),
            via="test",
        )
    uow.commit()
    resolve(uow, answered.id)
    uow.session.add(
        RoutingFeedback(
            ticket_id=answered.id,
            field="team",
            predicted=str(teams["printing"].id),
            corrected=str(teams["network"].id),
            source="model",
            at=uow.clock.now(),
        )
    )
    uow.commit()

    examples = training.examples_from_tickets(uow)

    team = examples["team"]
    assert len(team.texts) == 7
    assert (team.source, team.corrected) == ("tickets", 1)
    assert examples["type"].corrected == 0
    assert team.texts[0] == "VPN\n断开\nstill broken since 9:00"  # the newest first
    assert team.labels[0] == str(teams["network"].id)
    assert sorted(set(team.labels)) == sorted(str(t.id) for t in teams.values())
    assert "not done" not in {text.split("\n")[0] for text in team.texts}
    assert still_open.id not in {answered.id}
    assert sorted(set(examples["priority"].labels)) == ["P2", "P3", "P4"]
    assert training.examples_from_tickets(uow, limit=3)["team"].texts == team.texts[:3]


def test_a_trained_model_is_stored_activated_and_predicts_above_its_threshold(
    uow: UnitOfWork,
) -> None:
    teams = desk(uow, 15)
    examples = training.examples_from_tickets(uow)["team"]

    result = training.train(examples, min_held_out_for_threshold=5)
    stored = training.store(uow, result, activate=True, via="test")
    uow.commit()

    assert (result.evaluation.accuracy, result.evaluation.macro_f1) == (1.0, 1.0)
    assert result.evaluation.n == 9
    assert result.evaluation.confusion == [[3, 0, 0], [0, 3, 0], [0, 0, 3]]
    assert result.threshold is not None
    assert stored.is_active
    assert stored.trained_at == uow.clock.now()
    assert stored.trained_on["n_samples"] == 45
    assert stored.trained_on["n_train"] == 36
    assert stored.thresholds["chosen_by"] == "held_out"
    assert stored.thresholds["target_precision"] == 0.95
    assert stored.metrics["accuracy"] == 1.0
    assert stored.metrics["at_target_precision"]["precision"] == 1.0
    row = uow.session.get(RoutingModel, stored.id)
    assert row is not None
    assert row.blob_sha256 == hashlib.sha256(row.blob).hexdigest()
    assert (row.params["c"], row.params["calibration_folds"]) == (0.3, 3)
    assert [
        (entry.action, entry.field)
        for entry in audit.timeline(uow, entity_type="routing_model", entity_id=stored.id)
    ] == [
        ("routing_model.trained", "field"),
        ("routing_model.trained", "accuracy"),
        ("routing_model.trained", "threshold"),
        ("routing_model.activated", "is_active"),
    ]

    model_store.set_threshold(uow, model_id=stored.id, value=0.5, via="test")
    uow.commit()
    label, confidence = result.classifier.predict_one("打印机 卡纸\n急")
    assert (label, confidence >= 0.5) == (str(teams["printing"].id), True)
    found = model_store.predict_for_ticket(uow, subject="打印机 卡纸", description="急")
    assert found == {"team": Prediction(label=label, confidence=confidence, model_id=stored.id)}
    assert model_store.thresholds(uow) == {"team": 0.5}

    model_store.set_threshold(uow, model_id=stored.id, value=1.0, via="test")
    uow.commit()
    assert model_store.predict_for_ticket(uow, subject="打印机 卡纸", description="急") == {}

    model_store.set_threshold(uow, model_id=stored.id, value=None, via="test")
    uow.commit()
    assert model_store.predict_for_ticket(uow, subject="打印机 卡纸", description="急") == {}
    assert model_store.thresholds(uow) == {}


def test_no_model_means_no_prediction(uow: UnitOfWork) -> None:
    assert model_store.predict_for_ticket(uow, subject="VPN 断开", description="") == {}
    assert model_store.thresholds(uow) == {}
    assert model_store.active_model(uow, "team") is None


def test_activating_a_model_retires_the_fields_previous_one(uow: UnitOfWork) -> None:
    desk(uow, 10)
    examples = training.examples_from_tickets(uow)
    first = training.store(uow, training.train(examples["team"]), activate=True, via="test")
    other_field = training.store(uow, training.train(examples["type"]), activate=True, via="test")
    second = training.store(uow, training.train(examples["team"]), activate=False, via="test")
    uow.commit()
    assert [(m.id, m.is_active) for m in model_store.list_models(uow, field="team")] == [
        (second.id, False),
        (first.id, True),
    ]

    model_store.activate_model(uow, model_id=second.id, via="test")
    uow.commit()

    assert [(m.id, m.is_active) for m in model_store.list_models(uow)] == [
        (second.id, True),
        (other_field.id, True),
        (first.id, False),
    ]
    active = model_store.active_model(uow, "team")
    assert active is not None
    assert active.id == second.id
    # With 6 held-out tickets no threshold is measured: the field is never applied by itself.
    assert active.threshold is None
    assert model_store.predict_for_ticket(uow, subject="VPN 断开", description="") == {}


def test_a_tampered_blob_is_not_loaded(uow: UnitOfWork) -> None:
    desk(uow, 15)
    examples = training.examples_from_tickets(uow)["team"]
    stored = training.store(uow, training.train(examples), activate=True, threshold=0.0, via="test")
    uow.commit()
    assert set(model_store.predict_for_ticket(uow, subject="VPN 断开", description="")) == {"team"}
    blob = uow.session.scalars(select(RoutingModel.blob).where(RoutingModel.id == stored.id)).one()
    uow.session.execute(
        update(RoutingModel).where(RoutingModel.id == stored.id).values(blob=blob[:-1] + b"\x00")
    )
    uow.commit()
    model_store.forget_cached_models()

    assert model_store.predict_for_ticket(uow, subject="VPN 断开", description="") == {}
    with pytest.raises(ValueError, match="SHA-256"):
        model_store.load_classifier(uow, stored.id)


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def csv_rows(count: int) -> list[tuple[str, str]]:
    generator = random.Random(7)
    rows = []
    for number in range(count):
        name = sorted(TOPICS)[number % len(TOPICS)]
        rows.append((" ".join(generator.sample(TOPICS[name][0], 2)), name.title()))
    return rows


def test_a_csv_export_trains_a_model(uow: UnitOfWork, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "old-desk.csv", [*csv_rows(45), ("", "Network")], ("body", "queue"))

    examples = training.examples_from_csv(
        path, field="team", text_column="body", label_column="queue"
    )
    result = training.train(examples)
    stored = training.store(uow, result, activate=False, via="test")
    uow.commit()

    assert (len(examples.texts), examples.source) == (45, "csv:old-desk.csv")
    assert result.evaluation.labels == ("Accounts", "Network", "Printing")
    assert stored.trained_on["source"] == "csv:old-desk.csv"
    assert not stored.is_active
    assert model_store.predict_for_ticket(uow, subject="VPN", description="") == {}
    with pytest.raises(training.TrainingError, match="no column label"):
        training.examples_from_csv(path, field="team", text_column="body", label_column="label")


def test_too_few_examples_are_refused(uow: UnitOfWork) -> None:
    examples = training.Examples(
        field="team", texts=("a",) * 40, labels=("x",) * 36 + ("y",) * 4, source="tickets"
    )
    with pytest.raises(training.TrainingError, match="same label"):
        training.train(examples)
    assert training.MIN_EXAMPLES == tasks.FIRST_MODEL_EXAMPLES


def test_the_weekly_job_retrains_when_enough_was_learnt(uow: UnitOfWork) -> None:
    desk(uow, 5)
    assert not tasks.retraining_due(uow, "team")  # 15 labelled tickets: too few
    desk(uow, 5, seed=1)
    assert tasks.retraining_due(uow, "team")

    tasks.retrain(uow, {"slot": "2026-11-26T00:00:00+00:00"})
    uow.commit()
    queued = uow.session.scalars(
        select(Job.payload).where(Job.name == tasks.RETRAIN_FIELD_TASK).order_by(Job.id)
    ).all()
    assert [payload["field"] for payload in queued] == ["type", "priority", "team"]

    effect = tasks.retrain_field
    plan = effect.prepare(uow, {"field": "team"})
    assert plan is not None
    outcome = effect.perform(plan)
    assert effect.finish(uow, plan, outcome) is None
    uow.commit()

    active = model_store.active_model(uow, "team")
    assert active is not None
    assert active.trained_on["n_samples"] == 30
    assert not tasks.retraining_due(uow, "team")  # nothing new since


def test_the_train_command_fits_a_csv_and_stores_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", url)
    monkeypatch.setenv("CLOSELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLOSELOOP_ENVIRONMENT", "test")
    path = write_csv(tmp_path / "export.csv", csv_rows(300), ("text", "team"))

    result = CliRunner().invoke(main, ["train", "--csv", str(path)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "training team on 300 examples ..."
    assert "accuracy 1.0000   macro-F1 1.0000" in result.output
    assert "  threshold  coverage  precision" in lines
    assert lines[-2].startswith("model 1 (team): active, threshold ")
    with UnitOfWork(create_session_factory(engine)) as uow:
        active = model_store.active_model(uow, "team")
        assert active is not None
        assert active.trained_on["source"] == "csv:export.csv"
        assert active.threshold is not None
    refused = CliRunner().invoke(main, ["train", "--field", "priority"])
    assert refused.exit_code == 1
    assert "priority: 0 usable examples, at least 30 needed" in refused.output
    engine.dispose()


def test_the_active_models_are_read_again_at_most_every_30_seconds(uow: UnitOfWork) -> None:
    desk(uow, 10)
    stored = training.store(
        uow, training.train(training.examples_from_tickets(uow)["team"]), activate=True, via="test"
    )
    uow.commit()
    now = [100.0]
    cache = model_store.ModelCache(monotonic=lambda: now[0])
    assert [loaded.model_id for loaded in cache.active(uow).values()] == [stored.id]

    # Retired behind the cache's back (as another process would): seen only after 30 s.
    uow.session.execute(update(RoutingModel).values(is_active=False))
    uow.commit()
    now[0] += 29.9
    assert list(cache.active(uow)) == ["team"]
    now[0] += 0.1
    assert cache.active(uow) == {}
