"""How well the learned text model tags contacts it has never seen, and how fast.

Definitions (DECISIONLOG "Learned tagger and tagging evaluation"):

- in scope: a test label the model could have learned, i.e. one present in the
  training data (and in the catalog's scenario ids when a catalog is given);
  every other test label is out of scope and the right answer is to abstain;
- accuracy: share of in-scope test texts tagged with their label; an abstention
  counts as wrong;
- macro_f1: F1 averaged over the in-scope labels, abstentions counted as misses;
- coverage: share of in-scope test texts not abstained on;
- oos_recall: share of out-of-scope test texts abstained on (None without any);
- texts_per_s: test texts / seconds spent in `predict` alone, on one thread;
- operating_points: the same figures at other abstain thresholds, each chosen on
  the training data's validation split to keep a share of it answered (99 %, 95 %,
  90 %, 85 %): what a higher out-of-scope recall costs in accuracy.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from voc.evaluation.data import read_labelled_csv
from voc.tagging.model import (
    OPERATING_COVERAGES,
    ModelConfig,
    ModelTrainingError,
    TextModel,
    expected_calibration_error,
    operating_key,
)

ABSTAIN = "<abstain>"


def evaluate_tagging(
    train_csv: Path,
    test_csv: Path,
    *,
    text_col: str = "text",
    label_col: str = "category",
    catalog: Path | None = None,
    seed: int = 0,
    abstain_threshold: float | None = None,
    config: ModelConfig | None = None,
    save_model: Path | None = None,
) -> dict[str, Any]:
    """Train a TextModel on `train_csv`, tag `test_csv`, and score it.

    Raises EvaluationDataError for missing files or columns, CatalogError for a bad
    catalog and ModelTrainingError when fewer than two labels are left to learn.
    """
    train_texts, train_labels = read_labelled_csv(Path(train_csv), text_col, label_col)
    test_texts, test_labels = read_labelled_csv(Path(test_csv), text_col, label_col)
    if catalog is not None:
        from voc.catalog import load_catalog

        scenarios = load_catalog(Path(catalog))
        # the tagger may only ever answer a catalog scenario: train on those alone
        kept = [i for i, label in enumerate(train_labels) if label in scenarios]
        train_texts = [train_texts[i] for i in kept]
        train_labels = [train_labels[i] for i in kept]
    if len(set(train_labels)) < 2:
        raise ModelTrainingError(f"{train_csv}: need at least two in-scope labels to train on")

    started = time.perf_counter()
    model = TextModel.train(
        train_texts, train_labels, seed=seed, abstain_threshold=abstain_threshold, config=config
    )
    seconds_train = time.perf_counter() - started
    if save_model is not None:
        model.save(Path(save_model))

    predicted, confidence, seconds_predict = timed_predict(model, test_texts)
    report = score_predictions(model.labels, test_labels, predicted, confidence)
    # the classifier's own accuracy, as if it never abstained (comparable with
    # published figures, which do not abstain)
    top = np.asarray(model.labels, dtype=object)[model.predict_proba(test_texts).argmax(axis=1)]
    in_scope = np.array([t in set(model.labels) for t in test_labels], dtype=bool)
    report["accuracy_no_abstain"] = (
        float((top[in_scope] == np.asarray(test_labels, dtype=object)[in_scope]).mean())
        if in_scope.any()
        else None
    )
    report["operating_points"] = operating_points(model, test_labels, top, confidence)
    report.update(
        texts_per_s=len(test_texts) / seconds_predict if seconds_predict > 0 else float("inf"),
        n_train=len(train_texts),
        seconds_train=seconds_train,
        abstain_threshold=model.abstain_threshold,
        temperature=model.temperature,
        validation=model.validation,
    )
    return report


def operating_points(
    model: TextModel, truth: list[str], top: np.ndarray, confidence: np.ndarray
) -> list[dict[str, Any]]:
    """Accuracy, coverage and out-of-scope recall at each threshold the model chose
    on its validation split (none for a model trained without one)."""
    points = []
    for target in OPERATING_COVERAGES:
        threshold = model.validation.get(operating_key(target))
        if threshold is None:
            continue
        answered = (confidence >= threshold) & (confidence > 0.0)
        predicted = [t if a else None for t, a in zip(top.tolist(), answered.tolist(), strict=True)]
        scores = score_predictions(model.labels, truth, predicted, confidence)
        points.append(
            {
                "validation_coverage": target,
                "threshold": threshold,
                **{k: scores[k] for k in ("accuracy", "coverage", "oos_recall")},
            }
        )
    return points


def timed_predict(model: TextModel, texts: list[str]) -> tuple[list[str | None], np.ndarray, float]:
    """Predict with every native thread pool limited to one thread; (labels,
    confidences, seconds). A tiny warm-up first so one-off set-up is not timed."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        model.predict(texts[:8])
        started = time.perf_counter()
        predicted, confidence = model.predict(texts)
        seconds = time.perf_counter() - started
    return predicted, confidence, seconds


def score_predictions(
    known_labels: tuple[str, ...],
    truth: list[str],
    predicted: list[str | None],
    confidence: np.ndarray,
) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    known = set(known_labels)
    in_scope = np.array([t in known for t in truth], dtype=bool)
    answered = np.array([p is not None for p in predicted], dtype=bool)
    truth_arr = np.array(truth, dtype=object)
    pred_arr = np.array([ABSTAIN if p is None else p for p in predicted], dtype=object)
    correct = pred_arr == truth_arr

    n_in = int(in_scope.sum())
    n_oos = int((~in_scope).sum())
    in_labels = sorted({t for t in truth if t in known})
    macro_f1 = (
        float(
            f1_score(
                truth_arr[in_scope].astype(str),
                pred_arr[in_scope].astype(str),
                labels=in_labels,
                average="macro",
                zero_division=0,
            )
        )
        if n_in
        else None
    )
    answered_in = answered & in_scope
    return {
        "accuracy": float(correct[in_scope].mean()) if n_in else None,
        "macro_f1": macro_f1,
        "oos_recall": float((~answered[~in_scope]).mean()) if n_oos else None,
        "coverage": float(answered[in_scope].mean()) if n_in else None,
        # precision of the answers given: what a user of the tags experiences
        "accuracy_answered": float(correct[answered_in].mean()) if answered_in.any() else None,
        "ece": expected_calibration_error(confidence[answered_in], correct[answered_in])
        if answered_in.any()
        else None,
        "n_test": len(truth),
        "n_in_scope": n_in,
        "n_out_of_scope": n_oos,
        "labels": len(known_labels),
    }
