"""The ticket classifier: a ticket's text in, a label and a calibrated confidence out.

Pure machine learning: no database, no clock. ``training`` gathers examples and measures,
``model_store`` keeps the fitted models in the database and answers intake.

The pipeline (chosen by measurement, see ``bench/routing_classifier.py`` and
``docs/subsystems/routing.md``):

- **features**: TF-IDF (sublinear term frequency) of word 1-2-grams joined with TF-IDF of
  character 2-5-grams inside word boundaries (``char_wb``). The character n-grams need no
  tokenizer, so Chinese works as well as English: a run of Han characters is one "word" whose
  2-5-grams are the features;
- **model**: a linear SVM (``LinearSVC``, one-vs-rest) on the union;
- **confidence**: a multinomial logistic regression over the SVM's K decision scores, fitted on
  out-of-fold scores (``calibration_folds``-fold cross-fitting). It turns margins into
  probabilities that rank well (the per-field threshold depends on that ranking) and also
  re-weighs the one-vs-rest scores against each other, which is worth about half a point of
  accuracy on the IT ticket corpus. The confidence of a prediction is its probability.
"""

from __future__ import annotations

import io
import pickle
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import sklearn
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

# Bumped when what a stored blob contains changes shape; older blobs are then refused.
FORMAT_VERSION = 1
ALGORITHM = "tfidf-word12-charwb25+linearsvc+oof-logistic"
# Below this many examples, terms seen once are kept (a tiny organisation has few tickets).
SMALL_CORPUS = 2000


class ClassifierError(ValueError):
    """Training data the classifier cannot learn from (fewer than two labels...)."""


@dataclass(frozen=True, slots=True)
class ClassifierParams:
    """The knobs of the pipeline; stored with every model."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    # Character n-grams in more than this share of the texts are dropped ("th", "e "): they
    # carry little and make the features much denser, so the SVM slower.
    char_max_df: float = 0.2
    c: float = 0.3
    calibration_folds: int = 3
    calibration_c: float = 1.0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ticket_text(subject: str, description: str, first_message: str = "") -> str:
    """The one text a ticket is classified by: subject, description, first customer message."""
    parts = (subject.strip(), description.strip(), first_message.strip())
    return "\n".join(part for part in parts if part)


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become plain ones) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _word_ngrams(word: str, low: int, high: int) -> list[str]:
    """The character n-grams of one word padded with spaces, exactly as sklearn's ``char_wb``
    analyzer cuts them (a word shorter than n is counted once, whole)."""
    padded = f" {word} "
    length = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if length <= n:
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


class CharWbCounts:
    """Counts of character n-grams within word boundaries (sklearn's ``char_wb``), computed
    once per distinct word instead of once per occurrence.

    A document's ``char_wb`` counts are the sum of its words' counts, so they are a sparse
    product: (documents x words) @ (words x n-grams). sklearn's analyzer walks every n-gram of
    every occurrence in Python; this walks every distinct word once, which makes the features
    about ten times faster to compute on ticket text, where words repeat a lot. The result is
    the same matrix (tested against sklearn).
    """

    def __init__(
        self, ngram_range: tuple[int, int], *, min_df: int = 1, max_df: float = 1.0
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.vocabulary_: dict[str, int] = {}
        self._words: dict[str, int] = {}
        self._word_grams: sparse.csr_matrix | None = None

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        word_counts, words = _count_words(texts, {})
        low, high = self.ngram_range
        grams: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for index, word in enumerate(words):
            for gram in _word_ngrams(word, low, high):
                rows.append(index)
                cols.append(grams.setdefault(gram, len(grams)))
        word_grams = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(words), len(grams))
        )
        counts = sparse.csr_matrix(word_counts @ word_grams)
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = np.nonzero(
            (document_frequency >= self.min_df)
            & (document_frequency <= self.max_df * counts.shape[0])
        )[0]
        names = np.empty(len(grams), dtype=object)
        for gram, column in grams.items():
            names[column] = gram
        self.vocabulary_ = {str(names[column]): new for new, column in enumerate(keep)}
        self._word_grams = sparse.csr_matrix(word_grams[:, keep])
        self._words = {word: index for index, word in enumerate(words)}
        counts = sparse.csr_matrix(counts[:, keep])
        counts.sort_indices()
        return counts

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._word_grams is None:
            raise ClassifierError("the character n-gram counter is not fitted")
        unseen: dict[str, int] = {}
        known_counts, unseen_counts = _count_known_words(texts, self._words, unseen)
        counts = known_counts @ self._word_grams
        if unseen:
            low, high = self.ngram_range
            rows: list[int] = []
            cols: list[int] = []
            for word, index in unseen.items():
                for gram in _word_ngrams(word, low, high):
                    column = self.vocabulary_.get(gram)
                    if column is not None:
                        rows.append(index)
                        cols.append(column)
            extra = sparse.csr_matrix(
                (np.ones(len(rows)), (rows, cols)), shape=(len(unseen), len(self.vocabulary_))
            )
            counts = counts + unseen_counts @ extra
        counts = sparse.csr_matrix(counts)
        counts.sort_indices()
        return counts


def _count_words(
    texts: Sequence[str], vocabulary: dict[str, int]
) -> tuple[sparse.csr_matrix, list[str]]:
    """(documents x words) counts of the whitespace-separated words of the normalised texts.
    ``vocabulary`` is extended in place with unseen words; returns it as a list in index
    order too."""
    indptr = [0]
    indices: list[int] = []
    for text in texts:
        for word in normalise(text).split():
            indices.append(vocabulary.setdefault(word, len(vocabulary)))
        indptr.append(len(indices))
    words = [""] * len(vocabulary)
    for word, index in vocabulary.items():
        words[index] = word
    matrix = sparse.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(texts), len(vocabulary))
    )
    matrix.sum_duplicates()
    return matrix, words


def _count_known_words(
    texts: Sequence[str], known: Mapping[str, int], unseen: dict[str, int]
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Word counts split in two: words of the fitted vocabulary, and the others (``unseen`` is
    filled with those, numbered from 0)."""
    known_rows: list[int] = []
    known_cols: list[int] = []
    unseen_rows: list[int] = []
    unseen_cols: list[int] = []
    for row, text in enumerate(texts):
        for word in normalise(text).split():
            column = known.get(word)
            if column is None:
                unseen_rows.append(row)
                unseen_cols.append(unseen.setdefault(word, len(unseen)))
            else:
                known_rows.append(row)
                known_cols.append(column)
    shape = len(texts)
    known_counts = sparse.csr_matrix(
        (np.ones(len(known_rows)), (known_rows, known_cols)), shape=(shape, len(known))
    )
    unseen_counts = sparse.csr_matrix(
        (np.ones(len(unseen_rows)), (unseen_rows, unseen_cols)), shape=(shape, len(unseen))
    )
    return known_counts, unseen_counts


@dataclass(slots=True)
class _Fitted:
    word: TfidfVectorizer
    char: CharWbCounts
    char_weights: TfidfTransformer
    svm: LinearSVC
    calibrator: LogisticRegression
    classes: tuple[str, ...]


class TextClassifier:
    """Fit on (text, label) pairs; predict a label with a probability per text.

    :meth:`predict_proba` goes through scikit-learn (batches: training, evaluation);
    :meth:`predict_one`, what intake calls for each new ticket, computes the same numbers with
    a few numpy operations on the fitted vocabularies and coefficients, without scikit-learn's
    per-call input validation, which costs more than the arithmetic for one short text.
    """

    def __init__(self, params: ClassifierParams | None = None) -> None:
        self.params = params or ClassifierParams()
        self.sklearn_version: str = sklearn.__version__
        self.format_version = FORMAT_VERSION
        self._fitted: _Fitted | None = None
        self._fast: _FastPath | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fast"] = None  # derived from _fitted; rebuilt on first use
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def classes(self) -> tuple[str, ...]:
        return self._model().classes

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        if len(texts) != len(labels):
            raise ClassifierError("texts and labels differ in length")
        y = np.asarray([str(label) for label in labels], dtype=object)
        classes = tuple(sorted(set(y.tolist())))
        if len(classes) < 2:
            raise ClassifierError("at least two different labels are needed")
        smallest = min(int((y == label).sum()) for label in classes)
        if smallest < 2:
            raise ClassifierError("every label needs at least two examples")
        params = self.params
        min_df = params.min_df if len(texts) >= SMALL_CORPUS else 1
        word = TfidfVectorizer(
            preprocessor=normalise,
            ngram_range=params.word_ngrams,
            sublinear_tf=True,
            min_df=min_df,
        )
        char = CharWbCounts(params.char_ngrams, min_df=min_df, max_df=params.char_max_df)
        char_weights = TfidfTransformer(sublinear_tf=True)
        features = sparse.hstack(
            [word.fit_transform(texts), char_weights.fit_transform(char.fit_transform(texts))],
            format="csr",
        )
        # The terms cut by min_df are kept by sklearn only for inspection; they would make the
        # stored model many times larger.
        word.stop_words_ = None
        folds = max(2, min(params.calibration_folds, smallest))
        out_of_fold = self._out_of_fold_scores(features, y, classes, folds)
        svm = self._svm().fit(features, y)
        calibrator = LogisticRegression(C=params.calibration_c, max_iter=1000)
        calibrator.fit(out_of_fold, y)
        self._fitted = _Fitted(word, char, char_weights, svm, calibrator, classes)
        self._fast = None
        return self

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Probabilities, one row per text, columns in the order of :attr:`classes`."""
        model = self._model()
        char = model.char_weights.transform(model.char.transform(texts))
        features = sparse.hstack([model.word.transform(texts), char], format="csr")
        probabilities = model.calibrator.predict_proba(_scores(model.svm, features))
        # The calibrator saw the same labels as the SVM, so its classes are ours, in order.
        return np.asarray(probabilities, dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The most probable label of each text and its probability."""
        probabilities = self.predict_proba(texts)
        best = probabilities.argmax(axis=1)
        classes = self.classes
        return [(classes[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def predict_one(self, text: str) -> tuple[str, float]:
        """The most probable label of one text and its probability (the fast path)."""
        probabilities = self.predict_proba_one(text)
        best = int(probabilities.argmax())
        return self.classes[best], float(probabilities[best])

    def predict_proba_one(self, text: str) -> NDArray[np.float64]:
        """:meth:`predict_proba` of one text, computed directly (equal up to rounding)."""
        if self._fast is None:
            self._fast = _FastPath.of(self._model())
        return self._fast.probabilities(text)

    def to_bytes(self) -> bytes:
        """The fitted classifier as a pickle (stored with its SHA-256; see ``model_store``)."""
        self._model()
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TextClassifier:
        """Unpickle a classifier. Only for blobs this server wrote and whose SHA-256 the caller
        has verified: unpickling runs code named in the blob."""
        loaded = pickle.loads(blob)  # noqa: S301 (trusted: our own blob, hash verified by the caller)
        if not isinstance(loaded, cls):
            raise ClassifierError("the blob is not a ticket classifier")
        if loaded.format_version != FORMAT_VERSION:
            raise ClassifierError("the blob was written by another version of closeloop")
        return loaded

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.params.c, random_state=self.params.seed)

    def _out_of_fold_scores(
        self,
        features: sparse.csr_matrix,
        y: NDArray[Any],
        classes: tuple[str, ...],
        folds: int,
    ) -> NDArray[np.float64]:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.params.seed)
        out_of_fold = np.zeros((len(y), 1 if len(classes) == 2 else len(classes)))
        # One fold after the other: liblinear draws from one random generator per process, so
        # folds fitted in threads at once would not give the same model twice.
        for train, test in splitter.split(np.zeros(len(y)), y):
            svm = self._svm().fit(features[train], y[train])
            out_of_fold[test] = _scores(svm, features[test])
        return out_of_fold

    def _model(self) -> _Fitted:
        if self._fitted is None:
            raise ClassifierError("the classifier is not fitted")
        return self._fitted


def _scores(svm: LinearSVC, features: sparse.csr_matrix) -> NDArray[np.float64]:
    """The SVM's decision scores as a 2-D array (one column for two classes)."""
    scores = np.asarray(svm.decision_function(features), dtype=np.float64)
    return scores.reshape(-1, 1) if scores.ndim == 1 else scores


@dataclass(slots=True)
class _FastPath:
    """The fitted model as plain arrays, for one text at a time."""

    word_analyzer: Callable[[str], list[str]]
    word_vocabulary: Mapping[str, int]
    word_idf: NDArray[np.float64]
    char: CharWbCounts
    char_word_grams: sparse.csr_matrix
    char_idf: NDArray[np.float64]
    svm_word: NDArray[np.float64]  # (scores x word features)
    svm_char: NDArray[np.float64]
    svm_intercept: NDArray[np.float64]
    calibrator_coef: NDArray[np.float64]
    calibrator_intercept: NDArray[np.float64]

    @classmethod
    def of(cls, model: _Fitted) -> _FastPath:
        word_count = len(model.word.vocabulary_)
        coef = np.asarray(model.svm.coef_, dtype=np.float64)
        if model.char._word_grams is None:
            raise ClassifierError("the character n-gram counter is not fitted")
        return cls(
            word_analyzer=model.word.build_analyzer(),
            word_vocabulary=model.word.vocabulary_,
            word_idf=np.asarray(model.word.idf_, dtype=np.float64),
            char=model.char,
            char_word_grams=model.char._word_grams,
            char_idf=np.asarray(model.char_weights.idf_, dtype=np.float64),
            svm_word=np.ascontiguousarray(coef[:, :word_count]),
            svm_char=np.ascontiguousarray(coef[:, word_count:]),
            svm_intercept=np.asarray(model.svm.intercept_, dtype=np.float64),
            calibrator_coef=np.asarray(model.calibrator.coef_, dtype=np.float64),
            calibrator_intercept=np.asarray(model.calibrator.intercept_, dtype=np.float64),
        )

    def probabilities(self, text: str) -> NDArray[np.float64]:
        vocabulary = self.word_vocabulary
        word_hits = [vocabulary[gram] for gram in self.word_analyzer(text) if gram in vocabulary]
        word_columns, word_values = _sublinear_tfidf(
            np.asarray(word_hits, dtype=np.intp), None, self.word_idf
        )
        char_columns, char_values = self._char_features(text)
        scores = (
            self.svm_word[:, word_columns] @ word_values
            + self.svm_char[:, char_columns] @ char_values
            + self.svm_intercept
        )
        decision = self.calibrator_coef @ scores + self.calibrator_intercept
        if decision.shape[0] == 1:  # two labels: a binary logistic regression
            positive = 1.0 / (1.0 + np.exp(-decision[0]))
            return np.array([1.0 - positive, positive])
        exponentials = np.exp(decision - decision.max())
        return np.asarray(exponentials / exponentials.sum(), dtype=np.float64)

    def _char_features(self, text: str) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        grams = self.char_word_grams
        words = self.char._words
        vocabulary = self.char.vocabulary_
        low, high = self.char.ngram_range
        columns: list[NDArray[np.int32]] = []
        weights: list[NDArray[np.float64]] = []
        unseen: list[int] = []
        for word in normalise(text).split():
            row = words.get(word)
            if row is None:
                unseen.extend(
                    vocabulary[gram] for gram in _word_ngrams(word, low, high) if gram in vocabulary
                )
                continue
            start, end = grams.indptr[row], grams.indptr[row + 1]
            columns.append(grams.indices[start:end])
            weights.append(grams.data[start:end])
        columns.append(np.asarray(unseen, dtype=np.int32))
        weights.append(np.ones(len(unseen)))
        return _sublinear_tfidf(
            np.concatenate(columns).astype(np.intp), np.concatenate(weights), self.char_idf
        )


def _sublinear_tfidf(
    columns: NDArray[np.intp], weights: NDArray[np.float64] | None, idf: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """One document's TF-IDF as scikit-learn computes it with ``sublinear_tf``: counts
    (summed ``weights``) become 1 + log(count), times idf, scaled to unit length."""
    if columns.size == 0:
        return columns, np.zeros(0)
    unique, inverse = np.unique(columns, return_inverse=True)
    counts = np.bincount(inverse, weights=weights)
    values = (np.log(counts) + 1.0) * idf[unique]
    norm = float(np.sqrt(values @ values))
    return unique, values / norm if norm > 0 else values


# --- thresholds: precision against coverage ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Predictions at or above ``threshold``: the share of tickets they cover, their precision."""

    threshold: float
    coverage: float
    precision: float


def precision_coverage_curve(
    confidences: Sequence[float] | NDArray[np.float64],
    correct: Sequence[bool] | NDArray[np.bool_],
) -> list[CurvePoint]:
    """One point per distinct confidence, from the most confident down (coverage grows)."""
    conf = np.asarray(confidences, dtype=np.float64)
    hits = np.asarray(correct, dtype=bool)
    if conf.shape != hits.shape:
        raise ValueError("confidences and correct differ in length")
    if conf.size == 0:
        return []
    order = np.argsort(-conf, kind="stable")
    conf, hits = conf[order], hits[order]
    cumulative = np.cumsum(hits)
    # The last index of each run of equal confidences: a threshold takes all of them or none.
    last = np.nonzero(np.append(conf[1:] != conf[:-1], True))[0]
    total = conf.size
    return [
        CurvePoint(
            threshold=float(conf[i]),
            coverage=(i + 1) / total,
            precision=float(cumulative[i]) / (i + 1),
        )
        for i in last
    ]


def threshold_for_precision(curve: Sequence[CurvePoint], target: float) -> CurvePoint | None:
    """The lowest threshold (the largest coverage) whose predictions reach ``target``
    precision; None when no threshold does."""
    reaching = [point for point in curve if point.precision >= target]
    return max(reaching, key=lambda point: point.coverage) if reaching else None
