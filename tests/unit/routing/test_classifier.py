"""The classifier on synthetic tickets: fitting and predicting in Chinese and English, the
character n-gram counter against scikit-learn's, thresholds, determinism, the stored form."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from closeloop.routing import classifier as module
from closeloop.routing.classifier import (
    CharWbCounts,
    ClassifierError,
    ClassifierParams,
    CurvePoint,
    TextClassifier,
    normalise,
    precision_coverage_curve,
    threshold_for_precision,
    ticket_text,
)

# Per team: words a ticket of that team uses, in both languages.
VOCABULARY = {
    "network": ["VPN 断开", "无法上网", "wifi down", "network slow", "网络 延迟", "router 重启"],
    "printing": ["打印机 卡纸", "printer offline", "无法打印", "toner empty", "打印 队列 堵塞"],
    "accounts": ["密码 重置", "password reset", "账号 锁定", "cannot log in", "权限 申请"],
}
FILLER = ["请 帮忙", "please help", "谢谢", "thanks", "急", "today", "同事 也 一样", "since 9:00"]


def synthetic_tickets(count: int, seed: int) -> tuple[list[str], list[str]]:
    generator = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    teams = sorted(VOCABULARY)
    for number in range(count):
        team = teams[number % len(teams)]
        words = generator.sample(VOCABULARY[team], 2) + generator.sample(FILLER, 2)
        generator.shuffle(words)
        texts.append(ticket_text(words[0], " ".join(words[1:])))
        labels.append(team)
    return texts, labels


@pytest.fixture(scope="module")
def fitted() -> TextClassifier:
    texts, labels = synthetic_tickets(150, seed=1)
    return TextClassifier().fit(texts, labels)


def test_it_learns_chinese_and_english_tickets_alike(fitted: TextClassifier) -> None:
    assert fitted.classes == ("accounts", "network", "printing")
    predictions = fitted.predict(["打印机 卡纸 了, 急", "VPN 断开", "password reset please"])
    assert [label for label, _ in predictions] == ["printing", "network", "accounts"]
    texts, labels = synthetic_tickets(60, seed=2)
    predicted = [label for label, _ in fitted.predict(texts)]
    assert sum(p == t for p, t in zip(predicted, labels, strict=True)) == len(labels)


def test_confidences_are_probabilities_that_sum_to_one(fitted: TextClassifier) -> None:
    probabilities = fitted.predict_proba(["无法打印", "something else entirely", ""])
    assert probabilities.shape == (3, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    label, confidence = fitted.predict_one("无法打印")
    assert label == "printing"
    assert confidence == pytest.approx(probabilities[0].max(), abs=1e-12)
    # A clear ticket is more certain than one that names no team's words.
    assert probabilities[0].max() > probabilities[1].max()


def test_full_width_text_is_read_like_plain_text(fitted: TextClassifier) -> None:
    assert normalise("ＶＰＮ　断开 Printer") == "vpn 断开 printer"
    assert fitted.predict_one("ＶＰＮ 断开") == fitted.predict_one("vpn 断开")


@pytest.mark.parametrize("labels", [3, 2])
def test_one_ticket_at_a_time_gives_the_batch_probabilities(labels: int) -> None:
    texts, names = synthetic_tickets(90, seed=8)
    kept = [(t, y) for t, y in zip(texts, names, strict=True) if labels == 3 or y != "accounts"]
    model = TextClassifier().fit([t for t, _ in kept], [y for _, y in kept])
    others, _ = synthetic_tickets(30, seed=9)
    probes = [*others, "", "全新 的 词语 zzqx", "ＶＰＮ　断开", "printer printer printer 打印机"]
    batch = model.predict_proba(probes)
    one_by_one = np.array([model.predict_proba_one(text) for text in probes])
    assert np.allclose(one_by_one, batch, rtol=0, atol=1e-12)


def test_fitting_is_deterministic() -> None:
    texts, labels = synthetic_tickets(90, seed=3)
    params = ClassifierParams(c=0.5)
    first = TextClassifier(params).fit(texts, labels).predict_proba(texts)
    second = TextClassifier(params).fit(texts, labels).predict_proba(texts)
    assert np.array_equal(first, second)


def test_two_labels_work_too() -> None:
    texts, labels = synthetic_tickets(90, seed=4)
    pairs = [(t, y) for t, y in zip(texts, labels, strict=True) if y != "accounts"]
    model = TextClassifier().fit([t for t, _ in pairs], [y for _, y in pairs])
    assert model.classes == ("network", "printing")
    assert model.predict_proba(["printer offline"]).shape == (1, 2)
    assert model.predict_one("printer offline")[0] == "printing"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["a"] * 10, "two different labels"),
        (["a"] * 9 + ["b"], "at least two examples"),
    ],
)
def test_data_it_cannot_learn_from_is_refused(labels: list[str], message: str) -> None:
    with pytest.raises(ClassifierError, match=message):
        TextClassifier().fit([f"text {n}" for n in range(10)], labels)


def test_an_unfitted_classifier_refuses_to_predict() -> None:
    with pytest.raises(ClassifierError, match="not fitted"):
        TextClassifier().predict(["x"])


def test_the_stored_form_predicts_the_same(fitted: TextClassifier) -> None:
    blob = fitted.to_bytes()
    loaded = TextClassifier.from_bytes(blob)
    texts, _ = synthetic_tickets(20, seed=5)
    assert np.array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.params == fitted.params


def test_a_blob_of_another_format_is_refused(
    fitted: TextClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = fitted.to_bytes()
    monkeypatch.setattr(module, "FORMAT_VERSION", module.FORMAT_VERSION + 1)
    with pytest.raises(ClassifierError, match="another version"):
        TextClassifier.from_bytes(blob)


# --- character n-grams: the same counts as scikit-learn's char_wb ------------------------------


def test_char_wb_counts_equal_scikit_learns() -> None:
    texts, _ = synthetic_tickets(40, seed=6)
    texts += ["a bb ccc dddddd", "打印机", "   spaced    out   "]
    unseen = ["全新 的 词语 zzqx", "printer 打印机 a", ""]
    reference = CountVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, preprocessor=normalise
    )
    expected = reference.fit_transform(texts)
    ours = CharWbCounts((2, 5), min_df=2)
    got = ours.fit_transform(texts)
    assert set(ours.vocabulary_) == set(reference.vocabulary_)
    order = [
        ours.vocabulary_[gram]
        for gram, _ in sorted(reference.vocabulary_.items(), key=lambda item: item[1])
    ]
    assert (expected != got[:, order]).nnz == 0
    assert (reference.transform(unseen) != ours.transform(unseen)[:, order]).nnz == 0


def test_char_wb_counts_drop_the_commonest_grams() -> None:
    counter = CharWbCounts((2, 2), max_df=0.5)
    counter.fit_transform(["ab", "ab", "ab", "cd"])
    assert set(counter.vocabulary_) == {" c", "cd", "d "}


# --- thresholds ----------------------------------------------------------------------------------


def test_the_curve_goes_from_the_most_confident_down() -> None:
    curve = precision_coverage_curve([0.9, 0.8, 0.8, 0.6, 0.3], [True, True, False, True, False])
    assert curve == [
        CurvePoint(threshold=0.9, coverage=0.2, precision=1.0),
        CurvePoint(threshold=0.8, coverage=0.6, precision=2 / 3),
        CurvePoint(threshold=0.6, coverage=0.8, precision=0.75),
        CurvePoint(threshold=0.3, coverage=1.0, precision=0.6),
    ]


def test_the_threshold_is_the_lowest_that_reaches_the_precision() -> None:
    curve = precision_coverage_curve([0.9, 0.8, 0.8, 0.6, 0.3], [True, True, False, True, False])
    assert threshold_for_precision(curve, 0.75) == curve[2]
    assert threshold_for_precision(curve, 0.7) == curve[2]
    assert threshold_for_precision(curve, 0.6) == curve[3]
    assert threshold_for_precision(curve, 1.0) == curve[0]


def test_no_threshold_when_even_the_most_confident_miss() -> None:
    curve = precision_coverage_curve([0.9, 0.5], [False, True])
    assert threshold_for_precision(curve, 0.95) is None
    assert precision_coverage_curve([], []) == []
    with pytest.raises(ValueError, match="differ"):
        precision_coverage_curve([0.5], [True, False])


def test_the_ticket_text_joins_the_parts_it_has() -> None:
    assert ticket_text(" 打印机 ", "", "still broken") == "打印机\nstill broken"
    assert ticket_text("", "", "") == ""
