"""The learned text model: contact text -> root-cause label with a calibrated
confidence, or None (abstain). Pure Python (numpy, scipy, scikit-learn), no Beam.

How it decides (see DECISIONLOG "Learned tagger and tagging evaluation"):

1. Text is normalised alike for Chinese and English (NFKC, lower case) and turned
   into character 1-3-gram and word 1-2-gram TF-IDF features (`voc.tagging.text`).
2. A linear SVM (one-vs-rest, squared hinge) scores every label. Prediction is one
   sparse-times-dense product after a numpy featuriser (benchmarks/bench_tagging.py
   prints texts/s).
3. Scores become probabilities through a softmax whose temperature is fitted (by
   log-loss) on a validation split carved from the training data; the model is then
   refitted on all of the training data. The confidence is the top probability.
4. Below `abstain_threshold` the model abstains. By default the threshold is the
   highest one that still answers `target_coverage` (95%) of the validation texts.
   With `target_oos_recall` set, it is chosen for out-of-scope recall instead:
   labels are held out of training in turn, their validation texts stand for
   out-of-scope text, and the threshold is the highest-coverage one that abstains
   on that share of them. Thresholds for 99/95/90/85 % validation coverage are kept
   in `validation` (the operating points `voc eval tagging` prints). N-grams the
   model does not know still count in a text's length normalisation, so a text
   that shares one character with the training data is not mistaken for a
   confident match; a text with no known n-gram at all gets confidence 0.

Saved models are one `.npz` file (arrays plus a JSON header, loaded with
allow_pickle=False, so loading a model cannot run code) with a format number that
`load` checks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voc.tagging.text import Featuriser, normalise

MODEL_FORMAT = 1
# Below these sizes there is no honest validation split: calibrate nothing
# (temperature 1) and keep the caller's threshold, or MIN_THRESHOLD.
MIN_VALIDATION_TEXTS = 20
MIN_THRESHOLD = 0.0
SMALL_TRAINING_SET = 1000
# When validation is (nearly) separable the log-loss keeps falling as the softmax
# temperature shrinks and every confidence goes to 1; a floor on the temperature
# and a ceiling on the chosen threshold keep such a model answering texts that are
# a little different from its training data.
MIN_TEMPERATURE = 0.05
MAX_CHOSEN_THRESHOLD = 0.8
# Other operating points, chosen on the same validation split and kept with the
# model (`validation["threshold_at_<coverage %>"]`): what each costs in accuracy and
# buys in out-of-scope recall is printed by `voc eval tagging` and the benchmark.
OPERATING_COVERAGES = (0.99, 0.95, 0.90, 0.85)
# The out-of-scope aware threshold keeps at least this share of validation answered.
MIN_OOS_COVERAGE = 0.8


class ModelTrainingError(ValueError):
    """The training data cannot make a classifier (too few labels, mismatched lengths)."""


class ModelFormatError(ValueError):
    """The file is not a TextModel this version of VOC Loop can read."""


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters, chosen on Banking77 and the Chinese shopping reviews (see
    benchmarks/bench_tagging.py and the evaluation notes in DECISIONLOG.md)."""

    # 1-3 rather than 1-4: the same accuracy within noise on both sets (a 4-gram
    # adds no distinction a 3-gram and the word bigrams miss), a third faster and
    # 40% fewer weights on Chinese
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    c: float = 0.5  # LinearSVC regularisation
    validation_share: float = 0.15
    target_coverage: float = 0.95
    # Out-of-scope aware threshold (off by default): the highest-coverage threshold
    # whose out-of-scope recall, estimated on the validation split by holding
    # `oos_label_share` of the labels out of training in each of `oos_rounds`
    # rounds, reaches this target (never abstaining on more than
    # 1 - MIN_OOS_COVERAGE of the validation texts).
    target_oos_recall: float | None = None
    oos_rounds: int = 3
    oos_label_share: float = 0.1


class TextModel:
    """A trained classifier. Build with `train` or `load`; use `predict`."""

    def __init__(
        self,
        featuriser: Featuriser,
        weights: np.ndarray,
        bias: np.ndarray,
        labels: Sequence[str],
        *,
        temperature: float,
        abstain_threshold: float,
        config: ModelConfig,
        validation: dict[str, float] | None = None,
    ) -> None:
        self.featuriser = featuriser
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)  # (features, labels)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.labels: tuple[str, ...] = tuple(labels)
        self.temperature = float(temperature)
        self.abstain_threshold = float(abstain_threshold)
        self.config = config
        # figures measured on the validation split when the threshold was chosen
        self.validation: dict[str, float] = dict(validation or {})

    # -- training ---------------------------------------------------------------

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        seed: int = 0,
        abstain_threshold: float | None = None,
        config: ModelConfig | None = None,
    ) -> TextModel:
        """Fit on (text, label) pairs. With `abstain_threshold=None` the threshold is
        chosen on a validation split of these texts (never on test data)."""
        config = config or ModelConfig()
        if len(texts) != len(labels):
            raise ModelTrainingError(f"{len(texts)} texts but {len(labels)} labels")
        y = [str(label) for label in labels]
        if len(set(y)) < 2:
            raise ModelTrainingError("need at least two distinct labels to train a classifier")
        docs = [normalise(t) for t in texts]

        temperature, threshold, validation = 1.0, MIN_THRESHOLD, {}
        fit_idx, val_idx = _validation_split(y, config.validation_share, seed)
        if val_idx.size:
            held_out = _fit_linear(
                [docs[i] for i in fit_idx], [y[i] for i in fit_idx], config, seed
            )
            scores = held_out.scores([docs[i] for i in val_idx])
            truth = np.array([held_out.labels.index(y[i]) for i in val_idx])
            temperature = _fit_temperature(scores, truth)
            probs = _softmax(scores / temperature)
            confidence = probs.max(axis=1)
            threshold = _threshold_for_coverage(confidence, config.target_coverage)
            correct = probs.argmax(axis=1) == truth
            validation = {
                "n": float(val_idx.size),
                "accuracy": float(correct.mean()),
                "coverage": float((confidence >= threshold).mean()),
                "ece": expected_calibration_error(confidence, correct),
            }
            for coverage in OPERATING_COVERAGES:
                validation[operating_key(coverage)] = _threshold_for_coverage(confidence, coverage)
            if config.target_oos_recall is not None:
                oos_confidence = _pseudo_out_of_scope(
                    docs, y, fit_idx, val_idx, config, seed, temperature
                )
                if oos_confidence:
                    threshold, recall = _threshold_for_oos_recall(
                        confidence, oos_confidence, config.target_oos_recall
                    )
                    validation.update(
                        coverage=float((confidence >= threshold).mean()),
                        oos_recall=recall,
                        oos_n=float(sum(c.size for c in oos_confidence)),
                    )
        if abstain_threshold is not None:
            threshold = float(abstain_threshold)

        full = _fit_linear(docs, y, config, seed)
        return cls(
            full.featuriser,
            full.weights,
            full.bias,
            full.labels,
            temperature=temperature,
            abstain_threshold=threshold,
            config=config,
            validation=validation,
        )

    # -- prediction -------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(labels)) calibrated probabilities."""
        return self._proba(texts)[0]

    def predict(self, texts: Sequence[str]) -> tuple[list[str | None], np.ndarray]:
        """Top label per text, or None where its confidence is under the threshold;
        and that confidence (float64 in [0, 1]). A text with no feature the model
        knows (empty, emoji only, another script) has confidence 0: the scores
        would be the biases alone, which say nothing about the text."""
        if len(texts) == 0:
            return [], np.zeros(0, dtype=np.float64)
        probs, has_evidence = self._proba(texts)
        best = probs.argmax(axis=1)
        confidence = probs[np.arange(len(best)), best].astype(np.float64)
        confidence = np.where(has_evidence, np.clip(confidence, 0.0, 1.0), 0.0)
        answer = [
            self.labels[b] if c >= self.abstain_threshold and c > 0.0 else None
            for b, c in zip(best.tolist(), confidence.tolist(), strict=True)
        ]
        return answer, confidence

    def _proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        x = self.featuriser.transform([normalise(t) for t in texts])
        probs = _softmax((x @ self.weights + self.bias) / self.temperature)
        return probs, np.diff(x.indptr) > 0

    # -- persistence ------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write one .npz file (numpy arrays and a JSON header; no pickle)."""
        state = self.featuriser.state()
        header = {
            "format": MODEL_FORMAT,
            "kind": "voc.TextModel",
            "labels": list(self.labels),
            "temperature": self.temperature,
            "abstain_threshold": self.abstain_threshold,
            "config": asdict(self.config),
            "validation": self.validation,
            "featuriser": {k: state[k] for k in _FEATURISER_SCALARS},
            "words": state["words"],
        }
        path = Path(path)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
                weights=self.weights,
                bias=self.bias,
                char_keys=state["char_keys"],
                char_idf=state["char_idf"],
                word_idf=state["word_idf"],
            )

    @classmethod
    def load(cls, path: Path) -> TextModel:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise
        except (ValueError, OSError) as exc:
            raise ModelFormatError(f"{path}: not a saved TextModel ({exc})") from None
        if "header" not in arrays:
            raise ModelFormatError(f"{path}: not a saved TextModel (no header)")
        header = json.loads(arrays["header"].tobytes().decode("utf-8"))
        if header.get("kind") != "voc.TextModel" or header.get("format") != MODEL_FORMAT:
            raise ModelFormatError(
                f"{path}: model format {header.get('format')!r}, this version reads "
                f"{MODEL_FORMAT}; retrain the model"
            )
        featuriser = Featuriser.from_state(
            {
                **header["featuriser"],
                "words": header["words"],
                "char_keys": arrays["char_keys"],
                "char_idf": arrays["char_idf"],
                "word_idf": arrays["word_idf"],
            }
        )
        cfg = header["config"]
        config = ModelConfig(
            **{
                **cfg,
                "char_ngrams": tuple(cfg["char_ngrams"]),
                "word_ngrams": tuple(cfg["word_ngrams"]),
            }
        )
        return cls(
            featuriser,
            arrays["weights"],
            arrays["bias"],
            header["labels"],
            temperature=header["temperature"],
            abstain_threshold=header["abstain_threshold"],
            config=config,
            validation=header["validation"],
        )


_FEATURISER_SCALARS = (
    "char_ngrams",
    "word_ngrams",
    "min_df",
    "word_weight",
    "max_chars",
    "n_docs",
)


@dataclass
class _Linear:
    featuriser: Featuriser
    weights: np.ndarray
    bias: np.ndarray
    labels: tuple[str, ...]

    def scores(self, docs: Sequence[str]) -> np.ndarray:
        return np.asarray(self.featuriser.transform(docs) @ self.weights + self.bias)


def _fit_linear(docs: Sequence[str], y: Sequence[str], config: ModelConfig, seed: int) -> _Linear:
    from sklearn.svm import LinearSVC  # imported here: scikit-learn takes a second to load

    # On a few hundred texts an n-gram seen once is still evidence; on thousands,
    # dropping singletons halves the vocabulary at no cost in accuracy.
    min_df = config.min_df if len(docs) >= SMALL_TRAINING_SET else 1
    featuriser = Featuriser(
        char_ngrams=config.char_ngrams, word_ngrams=config.word_ngrams, min_df=min_df
    ).fit(docs)
    x = featuriser.transform(docs)
    svm = LinearSVC(C=config.c, random_state=seed).fit(x, y)
    labels = tuple(str(c) for c in svm.classes_)
    weights = svm.coef_.T.astype(np.float32)
    bias = svm.intercept_.astype(np.float32)
    if len(labels) == 2:
        # scikit-learn keeps one column for two classes; give each label its score
        weights = np.hstack([-weights / 2, weights / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2], dtype=np.float32)
    return _Linear(featuriser, weights, bias, labels)


def _validation_split(y: Sequence[str], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (fit, validation) indices; no validation when the data is too small.
    Every label keeps at least one text in the fit part."""
    n = len(y)
    n_val = int(round(n * share))
    if n_val < MIN_VALIDATION_TEXTS or n - n_val < 2:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(y):
        by_label.setdefault(label, []).append(i)
    val: list[int] = []
    for members in by_label.values():
        members = rng.permutation(members).tolist()
        take = min(len(members) - 1, math.floor(len(members) * share + rng.random()))
        val.extend(members[:take])
    val_idx = np.sort(np.array(val, dtype=np.int64))
    fit_mask = np.ones(n, dtype=bool)
    fit_mask[val_idx] = False
    return np.flatnonzero(fit_mask), val_idx


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that minimises validation log-loss (golden-section
    search on log T; the loss is convex in 1/T)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, truth]))

    bounds = (math.log(MIN_TEMPERATURE), math.log(100.0))
    result = minimize_scalar(nll, bounds=bounds, method="bounded")
    return float(math.exp(result.x))


def _pseudo_out_of_scope(
    docs: Sequence[str],
    y: Sequence[str],
    fit_idx: np.ndarray,
    val_idx: np.ndarray,
    config: ModelConfig,
    seed: int,
    temperature: float,
) -> list[np.ndarray]:
    """Confidences of validation texts whose label was held out of training: per
    round, a disjoint `oos_label_share` of the labels is dropped from the fit part,
    and the validation texts of those labels stand for out-of-scope text."""
    labels = sorted(set(y))
    k = max(1, round(config.oos_label_share * len(labels)))
    order = np.random.default_rng(seed + 1).permutation(len(labels))
    out: list[np.ndarray] = []
    for r in range(config.oos_rounds):
        held = {labels[i] for i in order[r * k : (r + 1) * k]}
        if not held or len(labels) - len(held) < 2:
            break
        fit = [i for i in fit_idx if y[i] not in held]
        oos = [docs[i] for i in val_idx if y[i] in held]
        if not oos:
            continue
        model = _fit_linear([docs[i] for i in fit], [y[i] for i in fit], config, seed)
        x = model.featuriser.transform(oos)
        probs = _softmax((x @ model.weights + model.bias) / temperature)
        # no known n-gram: confidence 0, as in predict
        out.append(np.where(np.diff(x.indptr) > 0, probs.max(axis=1), 0.0))
    return out


def _threshold_for_oos_recall(
    confidence: np.ndarray, oos_confidence: list[np.ndarray], target: float
) -> tuple[float, float]:
    """(threshold, its estimated out-of-scope recall): the highest validation
    coverage, in steps of 1 %, whose threshold abstains on `target` of the
    pseudo out-of-scope texts (the mean over rounds), else the one at
    MIN_OOS_COVERAGE; never above MAX_CHOSEN_THRESHOLD."""
    threshold, recall = MIN_THRESHOLD, 0.0
    for step in range(100, round(MIN_OOS_COVERAGE * 100) - 1, -1):
        threshold = _threshold_for_coverage(confidence, step / 100)
        recall = float(np.mean([(c < threshold).mean() for c in oos_confidence]))
        if recall >= target:
            break
    return threshold, recall


def _threshold_for_coverage(confidence: np.ndarray, target_coverage: float) -> float:
    """The highest threshold under which at most 1 - target_coverage of the
    validation texts fall."""
    if confidence.size == 0:
        return MIN_THRESHOLD
    ordered = np.sort(confidence)
    # the small slack: 1 - 0.8 is 0.19999999999999996 in floating point
    k = int(math.floor((1.0 - target_coverage) * ordered.size + 1e-9))
    return min(float(ordered[k]), MAX_CHOSEN_THRESHOLD) if k > 0 else MIN_THRESHOLD


def operating_key(coverage: float) -> str:
    """The `validation` key of the threshold that keeps `coverage` of the
    validation texts answered."""
    return f"threshold_at_{round(coverage * 100)}"


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15
) -> float:
    """Share-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.size == 0:
        return 0.0
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def describe(model: TextModel) -> dict[str, Any]:
    """A short, JSON-ready summary (for CLI output and logs)."""
    return {
        "labels": len(model.labels),
        "features": model.featuriser.n_features,
        "temperature": round(model.temperature, 4),
        "abstain_threshold": round(model.abstain_threshold, 4),
        "validation": model.validation,
    }
