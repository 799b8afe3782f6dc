"""Score the default tagger on real texts labelled with catalog scenario ids
(`../shared/data/cx_gold_zh/`: columns text, best_id, accepted_ids, category).

Definitions (DECISIONLOG.md, "Gold evaluation"):
- in scope = a row with a `best_id`; out of scope = an empty `best_id`;
- scenario_accuracy = in-scope rows whose tag is one of `accepted_ids`
  (an abstention is wrong);
- category_accuracy = in-scope rows whose tag's `<domain>.<stage>/<category>`
  is the category of one of `accepted_ids`;
- oos_abstain_rate = out-of-scope rows left untagged;
- coverage = in-scope rows tagged at all;
- texts_per_s = tagging time only, one thread.
"""

from __future__ import annotations

import time
from pathlib import Path

from voc.catalog import Catalog, load_catalog
from voc.evaluation.data import EvaluationDataError, read_csv
from voc.tagging.base import TagContext

GOLD_COLUMNS = ("text", "best_id", "accepted_ids")


def category_of(catalog: Catalog, scenario_id: str) -> str | None:
    if scenario_id not in catalog:
        return None
    s = catalog[scenario_id]
    return f"{s.domain}.{s.stage}/{s.category}"


def evaluate_gold(
    path: Path,
    *,
    domain: str = "ecommerce",
    channel: str = "social",
    catalog_path: Path | None = None,
) -> dict:
    from voc.paths import DEFAULT_CATALOG
    from voc.tagging.hybrid import build_tagger

    frame = read_csv(path)
    missing = [c for c in GOLD_COLUMNS if c not in frame.columns]
    if missing:
        raise EvaluationDataError(
            f"{path}: no column(s) {', '.join(map(repr, missing))}; "
            f"columns are {', '.join(map(repr, frame.columns))}"
        )
    catalog = load_catalog(catalog_path or DEFAULT_CATALOG)
    texts = frame.get_column("text").fill_null("").to_list()
    best = [(b or "").strip() for b in frame.get_column("best_id").to_list()]
    accepted = [
        {a.strip() for a in (acc or "").split(";") if a.strip()}
        for acc in frame.get_column("accepted_ids").to_list()
    ]
    unknown = sorted({a for acc in accepted for a in acc if a not in catalog})
    tagger = build_tagger(catalog_path or DEFAULT_CATALOG)
    contexts = [TagContext(domain=domain, channel=channel)] * len(texts)
    tagger.tag_batch(texts[:1], contexts[:1])  # warm-up: lazy loads are not tagging time
    started = time.perf_counter()
    tags = tagger.tag_batch(texts, contexts)
    seconds = time.perf_counter() - started
    n_in = right = right_cat = tagged_in = n_oos = abstained_oos = 0
    by_method: dict[str, int] = {}
    for tag, b, acc in zip(tags, best, accepted, strict=True):
        if not b:
            n_oos += 1
            abstained_oos += tag is None
            continue
        n_in += 1
        if tag is None:
            continue
        tagged_in += 1
        by_method[tag.method] = by_method.get(tag.method, 0) + 1
        right += tag.scenario_id in acc
        cats = {category_of(catalog, a) for a in acc} - {None}
        right_cat += category_of(catalog, tag.scenario_id) in cats
    return {
        "n": len(texts),
        "in_scope": n_in,
        "out_of_scope": n_oos,
        "scenario_accuracy": right / n_in if n_in else 0.0,
        "category_accuracy": right_cat / n_in if n_in else 0.0,
        "oos_abstain_rate": abstained_oos / n_oos if n_oos else 0.0,
        "coverage": tagged_in / n_in if n_in else 0.0,
        "tagged_by_method": by_method,
        "texts_per_s": len(texts) / seconds if seconds > 0 else 0.0,
        "unknown_ids": unknown,
        "domain": domain,
    }


def evaluate_catalog_examples(
    *, domain: str = "ecommerce", catalog_path: Path | None = None
) -> dict:
    """An honest split for the semantic tagger that no gold file enters: every
    Chinese customer example of the `domain` and `common` scenarios is scored
    without its own document (its scenario keeps the rest), within `domain`;
    the best scenario, ungated, is right when it is the example's own, and its
    category when the categories agree. `weighted_*` weigh each example by its
    scenario's share of the prior (real texts follow the prior)."""
    import numpy as np

    from voc.paths import DEFAULT_CATALOG
    from voc.tagging.prior import relative_prior
    from voc.tagging.semantic import semantic_tagger

    tagger = semantic_tagger(str(catalog_path or DEFAULT_CATALOG))
    catalog = tagger.catalog
    texts, rows, owners = [], [], []
    for i, row in tagger.example_documents():
        s = catalog.scenarios[i]
        text = tagger.document(row)
        if s.domain in (domain, "common") and text in s.examples_zh:
            texts.append(text)
            rows.append(row)
            owners.append(i)
    contexts = [TagContext(domain=domain, channel="social")] * len(texts)
    scores = tagger.scores(texts, contexts, exclude_docs=np.asarray(rows))
    best = scores.argmax(axis=1)
    owner = np.asarray(owners)
    cats = np.asarray([category_of(catalog, sid) for sid in tagger.ids])
    right = best == owner
    right_cat = cats[best] == cats[owner]
    weights = relative_prior(tagger.ids)[owner]
    return {
        "n": len(texts),
        "scenario_accuracy": float(right.mean()) if texts else 0.0,
        "category_accuracy": float(right_cat.mean()) if texts else 0.0,
        "weighted_scenario_accuracy": float(np.average(right, weights=weights)) if texts else 0.0,
        "weighted_category_accuracy": float(np.average(right_cat, weights=weights))
        if texts
        else 0.0,
        "domain": domain,
    }
