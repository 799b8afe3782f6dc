"""Precision and recall of the masker on the labelled set (`voc eval privacy`).

A finding is right when the labelled snippet holds personal data of the same
kind with exactly the same text (value); a masked near-miss (an order or
waybill number, an amount, a date) is a false positive of the kind it was
masked as; a missed or mis-bounded value is a false negative.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voc.privacy.mask import KINDS, Masker, find_pii

EVAL_SET = Path(__file__).with_name("eval_set.tsv")


@dataclass(frozen=True)
class Snippet:
    language: str
    text: str
    labels: tuple[tuple[str, str], ...]  # (kind, value)


class EvalSetError(ValueError):
    pass


def load_eval_set(path: Path = EVAL_SET) -> list[Snippet]:
    """`language<TAB>text<TAB>KIND=value | KIND=value` per line; `#` comments."""
    snippets = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2 or cols[0] not in ("zh", "en"):
            raise EvalSetError(f"{path}:{lineno}: expected `zh|en<TAB>text[<TAB>labels]`")
        labels = []
        for item in cols[2].split("|") if len(cols) > 2 and cols[2].strip() else []:
            kind, _, value = item.partition("=")
            kind = kind.strip()
            if kind not in KINDS or not value or value not in cols[1]:
                raise EvalSetError(f"{path}:{lineno}: bad label {item!r}")
            labels.append((kind, value))
        snippets.append(Snippet(cols[0], cols[1], tuple(labels)))
    return snippets


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 1.0


def evaluate_privacy(snippets: list[Snippet], repeat_for_speed: int = 20) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for s in snippets:
        predicted = Counter((f.kind, f.value) for f in find_pii(s.text))
        expected = Counter(s.labels)
        for (kind, _value), n in (predicted & expected).items():
            tp[kind] += n
        for (kind, value), n in (predicted - expected).items():
            fp[kind] += n
            errors.append({"error": "false_positive", "kind": kind, "value": value, "text": s.text})
        for (kind, value), n in (expected - predicted).items():
            fn[kind] += n
            errors.append({"error": "missed", "kind": kind, "value": value, "text": s.text})
    per_kind = {
        k: {
            "support": tp[k] + fn[k],
            "precision": _ratio(tp[k], tp[k] + fp[k]),
            "recall": _ratio(tp[k], tp[k] + fn[k]),
        }
        for k in KINDS
    }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    masker = Masker(b"speed-test-key")
    texts = [s.text for s in snippets]
    start = time.perf_counter()
    for _ in range(repeat_for_speed):
        for t in texts:
            masker.mask(t)
    seconds = time.perf_counter() - start
    return {
        "snippets": len(snippets),
        "snippets_with_pii": sum(1 for s in snippets if s.labels),
        "languages": dict(Counter(s.language for s in snippets)),
        "labels": all_tp + all_fn,
        "precision": _ratio(all_tp, all_tp + all_fp),
        "recall": _ratio(all_tp, all_tp + all_fn),
        "per_kind": per_kind,
        "texts_per_s": round(len(texts) * repeat_for_speed / seconds) if seconds else None,
        "errors": errors,
    }
