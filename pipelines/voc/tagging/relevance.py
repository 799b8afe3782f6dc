"""Is this text about a service problem at all? A small binary text model that
lets the semantic tagger abstain on what no scenario should claim: a product
opinion ("太小了", "性价比不高"), a hotel review, praise.

Trained here, on real text, by weak supervision (no hand labels): the 62,774
Chinese shopping and hotel reviews of `online_shopping_zh` (label 1 =
positive). A negative review about goods that contains a problem concept of
`lexicon.yaml` (late, lost, damaged, fake, refund, invoice, rude service ...)
is "in scope"; every positive review, every hotel review and every negative
review with no such concept is "out of scope". The model learns the wording
around those seeds from character and word n-grams (`voc.tagging.model`), so
it generalises past the lexicon.

The trained model ships in the package (`relevance_zh.npz`); rebuild it with
`python -m voc.tagging.relevance PATH/online_shopping_10_cats.csv` (seeded,
about a minute on one core).
"""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

from voc.tagging.text import normalise

MODEL_PATH = Path(__file__).with_name("relevance_zh.npz")
IN_SCOPE, OUT_OF_SCOPE = "in_scope", "out_of_scope"
# Concepts that name a problem the catalog has scenarios for; generic ones
# (delivery, price, quality, service_agent ...) appear in praise and opinions too.
PROBLEM_CONCEPTS = frozenset(
    (
        "slow",
        "not_dispatched",
        "stuck",
        "lost",
        "damaged",
        "leak",
        "seal",
        "wrong",
        "missing",
        "gift",
        "used",
        "fake",
        "spoiled",
        "expired",
        "price_drop",
        "refund",
        "return",
        "exchange",
        "repair",
        "invoice",
        "attitude",
        "no_reply",
        "fee",
        "cheat",
        "compensation",
        "chase",
        "transfer",
        "complain",
        "broken_func",
        "safety",
        "hair_bug",
        "sick",
        "allergy",
        "pilling",
        "detached",
        "quality",
        "screen",
        "noise",
        "smell",
        "churn",
        "poor_packing",
        "misdelivered",
    )
)
HOTEL = "酒店"


def weak_labels(rows: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    from voc.tagging.semantic import Lexicon

    lexicon = Lexicon.load()
    texts, labels = [], []
    for r in rows:
        text = r.get("review") or ""
        if not text.strip():
            continue
        negative = r.get("label") == "0"
        problem = bool(lexicon.concepts_in(normalise(text)) & PROBLEM_CONCEPTS)
        in_scope = negative and r.get("cat") != HOTEL and problem
        texts.append(text)
        labels.append(IN_SCOPE if in_scope else OUT_OF_SCOPE)
    return texts, labels


# The gate keeps this share of the weakly in-scope texts of a held-out split: the
# weak labels mark a problem only where a lexicon form names it, so the model's
# P(in scope) is low on real problems worded otherwise (positive-unlabelled
# data), and its own 0.5 boundary is too strict for them.
KEEP_IN_SCOPE = 0.95


def build(data_csv: Path, out: Path = MODEL_PATH, seed: int = 0) -> dict:
    import numpy as np

    from voc.tagging.model import ModelConfig, TextModel, _validation_split

    with open(data_csv, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts, labels = weak_labels(rows)
    # min_df 5 keeps the shipped file small at no cost on the validation split
    config = ModelConfig(min_df=5)
    fit_idx, val_idx = _validation_split(labels, config.validation_share, seed)
    held_out = TextModel.train(
        [texts[i] for i in fit_idx],
        [labels[i] for i in fit_idx],
        seed=seed,
        abstain_threshold=0.0,
        config=config,
    )
    val_in = [texts[i] for i in val_idx if labels[i] == IN_SCOPE]
    # stored as the model's abstain threshold: the semantic tagger's gate (the
    # decision boundary when the data is too small for a held-out split)
    gate = 0.5
    if val_in:
        p_in = held_out.predict_proba(val_in)[:, held_out.labels.index(IN_SCOPE)]
        gate = min(gate, float(np.quantile(p_in, 1 - KEEP_IN_SCOPE)))
    model = TextModel.train(texts, labels, seed=seed, abstain_threshold=gate, config=config)
    model.save(out)
    return {
        "texts": len(texts),
        "in_scope": labels.count(IN_SCOPE),
        "gate": round(gate, 4),
        "validation": model.validation,
        "bytes": out.stat().st_size,
    }


@lru_cache(maxsize=1)
def relevance_model():
    """The shipped model, or None when it is missing (then nothing is gated)."""
    if not MODEL_PATH.exists():
        return None
    from voc.tagging.model import TextModel

    return TextModel.load(MODEL_PATH)


def gate() -> float:
    """The P(in scope) under which the semantic tagger abstains (0.5 for a model
    built without one)."""
    model = relevance_model()
    return model.abstain_threshold if model is not None and model.abstain_threshold > 0 else 0.5


def in_scope_probability(texts: list[str]):
    """P(the text is about a service problem), one float per text; None without a model."""
    model = relevance_model()
    if model is None:
        return None
    probs = model.predict_proba(texts)
    return probs[:, model.labels.index(IN_SCOPE)]


def hashed_vocabulary():
    """The shipped model's character 1-3-gram keys, in column order, when
    `in_scope_probability_hashed` can read its columns from a caller's own
    probe (`cols`); None otherwise."""
    model = relevance_model()
    if model is None or model.featuriser.char_ngrams != (1, 3) or len(model.labels) != 2:
        return None
    return model.featuriser._char_keys


def in_scope_probability_hashed(norms: list[str], hashed, rows, keys, cols=None, lookup=None):
    """`in_scope_probability` of normalised texts, `hashed[i]` when text i's
    character 1-3-gram keys (`voc.tagging.text.char_ngram_keys`, the whole text)
    are given already, as (`rows`, `keys`) with rows numbered among those texts:
    the semantic tagger's own hashing pass serves the model; the others are
    hashed here. The same probabilities, without hashing a text twice. `cols`:
    the model's column of each of the given keys (-1: none), when the caller
    looked them up already in a table that holds `hashed_vocabulary()` (then
    `keys` may be None); `lookup`: keys -> those columns, that table's probe
    for the texts hashed here (the model's own table by default)."""
    import numpy as np

    from voc.tagging.text import char_ngram_keys, grouped_counts

    model = relevance_model()
    if model is None:
        return None
    f = model.featuriser
    if f.char_ngrams != (1, 3) or len(model.labels) != 2:
        return in_scope_probability(norms)
    hashed = np.asarray(hashed, dtype=bool)
    order = np.concatenate([np.flatnonzero(hashed), np.flatnonzero(~hashed)])
    n_hashed = int(hashed.sum())
    lookup = lookup or f._char_table().lookup
    pos = lookup(keys) if cols is None else np.asarray(cols, dtype=np.int64)
    if n_hashed < len(norms):
        more_rows, more_keys = char_ngram_keys(
            [norms[i] for i in order[n_hashed:].tolist()], 1, 3, f.max_chars
        )
        rows = np.concatenate([rows, more_rows + n_hashed])
        pos = np.concatenate([pos, lookup(more_keys)])
    # rows are numbered in `order` now: hashed texts first, then the others
    texts = [norms[i] for i in order.tolist()]
    n = len(texts)
    n_chars = f._char_keys.size
    # two labels: P(in scope) = logistic of the difference of their scores; the
    # char block's tf-idf times that difference, summed per text, without
    # building the block (text.py `_tfidf_rows`: sublinear tf x idf, the norm
    # counting the n-grams outside the vocabulary)
    diff = (
        model.weights[:, model.labels.index(IN_SCOPE)]
        - model.weights[:, 1 - model.labels.index(IN_SCOPE)]
    )
    bias = model.bias[model.labels.index(IN_SCOPE)] - model.bias[1 - model.labels.index(IN_SCOPE)]
    known = pos >= 0
    r, col, count = grouped_counts(rows[known], pos[known], n_chars)
    v = (1.0 + np.log(count)) * f._char_idf[col]
    unknown = np.bincount(rows[~known], minlength=n)
    norm = np.sqrt(np.bincount(r, weights=v * v, minlength=n) + unknown * f._unknown_idf() ** 2)
    norm[norm == 0] = 1.0
    logit = np.bincount(r, weights=v / norm[r] * diff[col], minlength=n) + bias
    if f.word_ngrams[1] > 0:
        logit = logit + f.word_block(texts) @ diff[n_chars:]
    p = 1.0 / (1.0 + np.exp(-logit / model.temperature))
    out = np.empty(len(norms))
    out[order] = p
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(build(Path(sys.argv[1])), ensure_ascii=False))
