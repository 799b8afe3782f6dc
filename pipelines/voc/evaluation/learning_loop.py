"""How much the learning loop buys: tagging accuracy on a held-out split as an
analyst labels more contacts (voc.learning), and how well untagged contacts
cluster by their true problem. Used by benchmarks/bench_learning_loop.py and
benchmarks/bench_untagged_clusters.py.

Simulated data: the contacts of a simulated period, split by time; the first
70 % is what the analyst works on (what the default tagger leaves untagged
there is labelled, in a seeded random order, with the simulator's truth as the
analyst's answer), the last 30 % is held out. Real text: reviews from
`online_shopping_zh` with their product category as the analyst's label (the
default catalog has no such scenarios: every point of accuracy there comes
from labels), and the gold dev set as a check that labels from simulated data
do not make real text worse. Nothing is tuned on the held-out parts."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voc.catalog import load_catalog
from voc.evaluation.catalog_holdout import LabelledContact, read_contacts
from voc.learning.examples import ExampleTagger, LabelledExample
from voc.paths import DEFAULT_CATALOG
from voc.tagging.base import TagContext
from voc.tagging.cluster import cluster_texts, purity
from voc.tagging.hybrid import HybridTagger

BUDGETS = (0, 100, 200, 400, 800, 1600)


def default_tagger(catalog) -> HybridTagger:
    """The pipeline's default tagger: rules, then the semantic tagger."""
    from voc.tagging.semantic import semantic_tagger

    return HybridTagger(catalog, semantic=semantic_tagger(str(DEFAULT_CATALOG)))


def labelled_tagger(catalog, labelled: Sequence[LabelledExample]) -> HybridTagger:
    """What `voc run` builds from a labels overlay (voc.tagging.hybrid.build_tagger):
    the default tagger, then the nearest labelled example."""
    tagger = default_tagger(catalog)
    if labelled:
        tagger.examples = ExampleTagger(labelled)
    return tagger


POOL_SHARE = 0.7


def _evidence(sim_dir: Path) -> dict[str, str]:
    out = {}
    with (sim_dir / "ground_truth" / "contacts.jsonl").open() as f:
        for line in f:
            r = json.loads(line)
            out[r["contact_id"]] = r.get("evidence") or "text_only"
    return out


def _score(tags, contacts: Sequence[LabelledContact], evidence: dict[str, str]) -> dict[str, Any]:
    right: Counter = Counter()
    seen: Counter = Counter()
    oos = oos_abstained = 0
    for tag, c in zip(tags, contacts, strict=True):
        if c.scenario_id is None:
            oos += 1
            oos_abstained += tag is None
            continue
        for key in ("all", evidence.get(c.contact_id, "text_only")):
            seen[key] += 1
            right[key] += tag is not None and tag.scenario_id == c.scenario_id
    out = {f"accuracy_{k}": round(right[k] / seen[k], 4) for k in seen}
    out["oos_abstained"] = round(oos_abstained / oos, 4) if oos else None
    return out


def simulated_loop(sim_dir: Path, *, budgets=BUDGETS, seed: int = 0) -> dict[str, Any]:
    catalog = load_catalog(DEFAULT_CATALOG)
    contacts = read_contacts(sim_dir)
    evidence = _evidence(sim_dir)
    cut = int(len(contacts) * POOL_SHARE)
    pool, held = contacts[:cut], contacts[cut:]
    base = default_tagger(catalog)
    pool_tags = base.tag_batch([c.text for c in pool], [c.context for c in pool])
    candidates = [c for c, t in zip(pool, pool_tags, strict=True) if t is None]
    random.Random(seed).shuffle(candidates)
    curve = []
    for n in budgets:
        labelled = [
            LabelledExample(c.scenario_id, c.text, c.context.language, c.contact_id)
            for c in candidates[:n]
            if c.scenario_id is not None  # an off-topic contact is left unlabelled
        ]
        tagger = labelled_tagger(catalog, labelled)
        tags = tagger.tag_batch([c.text for c in held], [c.context for c in held])
        curve.append({"labels": n, **_score(tags, held, evidence)})
    return {
        "pool": len(pool),
        "untagged_in_pool": len(candidates),
        "held_out": len(held),
        "curve": curve,
        **_gain(curve, "accuracy_all"),
        **_gain(curve, "accuracy_text_only"),
    }


def _gain(curve: list[dict[str, Any]], key: str) -> dict[str, Any]:
    first, last = curve[0], curve[-1]
    if last["labels"] == first["labels"] or key not in first:
        return {}
    per_100 = (last[key] - first[key]) / (last["labels"] - first["labels"]) * 100
    return {f"{key}_gain_per_100_labels": round(per_100, 4)}


def real_reviews_loop(
    path: Path, *, budgets=BUDGETS, held_out: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Reviews labelled with their product category, one category a scenario."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [
            (r["review"], r["cat"]) for r in csv.DictReader(f) if (r.get("review") or "").strip()
        ]
    rng = random.Random(seed)
    rng.shuffle(rows)
    held, pool = rows[:held_out], rows[held_out:]
    ids = {cat: f"common.review.c{i}" for i, cat in enumerate(sorted({c for _, c in rows}))}
    ctx = TagContext(domain="common", channel="review", language="zh")
    curve = []
    for n in budgets:
        tagger = ExampleTagger([LabelledExample(ids[c], t, "zh") for t, c in pool[:n]])
        tags = tagger.tag_batch([t for t, _ in held], [ctx] * len(held))
        right = sum(
            t is not None and t.scenario_id == ids[c] for t, (_, c) in zip(tags, held, strict=True)
        )
        covered = sum(t is not None for t in tags)
        curve.append(
            {
                "labels": n,
                "accuracy_all": round(right / len(held), 4),
                "coverage": round(covered / len(held), 4),
            }
        )
    return {
        "held_out": len(held),
        "classes": len(ids),
        "curve": curve,
        **_gain(curve, "accuracy_all"),
    }


def gold_check(gold_csv: Path, sim_dir: Path, labels: int, *, seed: int = 0) -> dict[str, Any]:
    """Scenario accuracy on the gold dev rows (tag in accepted_ids, abstention
    wrong) with the default tagger, then with `labels` labels from simulated data."""
    catalog = load_catalog(DEFAULT_CATALOG)
    with gold_csv.open(encoding="utf-8-sig", newline="") as f:
        gold = [r for r in csv.DictReader(f) if r["best_id"].strip()]
    contacts = read_contacts(sim_dir, journeys=False)
    pool = contacts[: int(len(contacts) * POOL_SHARE)]
    base = default_tagger(catalog)
    pool_tags = base.tag_batch([c.text for c in pool], [c.context for c in pool])
    candidates = [c for c, t in zip(pool, pool_tags, strict=True) if t is None and c.scenario_id]
    random.Random(seed).shuffle(candidates)
    examples = [
        LabelledExample(c.scenario_id, c.text, c.context.language) for c in candidates[:labels]
    ]
    out = {"n": len(gold)}
    for name, tagger in (
        ("without", base),
        ("with", labelled_tagger(catalog, examples)),
    ):
        # the gold rows are shop reviews: tagged as an e-commerce business runs it
        ctxs = [TagContext(domain="ecommerce", channel="review", language="zh")] * len(gold)
        tags = tagger.tag_batch([r["text"] for r in gold], ctxs)
        right = sum(
            t is not None and t.scenario_id in set(r["accepted_ids"].split(";"))
            for t, r in zip(tags, gold, strict=True)
        )
        out[f"scenario_accuracy_{name}_labels"] = round(right / len(gold), 4)
    out["labels_from_simulation"] = len(examples)
    return out


def cluster_purity(sim_dir: Path, *, k_values=(None, 200)) -> dict[str, Any]:
    """Purity of the untagged contacts' clusters against their true scenarios
    (and their families, domain.stage/category), customer words vs whole text."""
    catalog = load_catalog(DEFAULT_CATALOG)
    contacts = read_contacts(sim_dir)
    tags = default_tagger(catalog).tag_batch(
        [c.text for c in contacts], [c.context for c in contacts]
    )
    untagged = [c for c, t in zip(contacts, tags, strict=True) if t is None]
    truth = [c.scenario_id for c in untagged]
    family = [
        f"{catalog[s].domain}.{catalog[s].stage}/{catalog[s].category}" if s else None
        for s in truth
    ]
    out: dict[str, Any] = {"untagged": len(untagged), "true_scenarios": len(set(truth))}
    for k in k_values:
        for words_only in (True, False):
            clusters = cluster_texts(
                [c.text for c in untagged],
                [c.context.domain for c in untagged],
                k=k,
                words_only=words_only,
            )
            tag = f"{'words' if words_only else 'whole_text'}_k{k or 'default'}"
            out[f"purity_{tag}"] = purity(clusters, truth)
            out[f"family_purity_{tag}"] = purity(clusters, family)
            out[f"largest_cluster_{tag}"] = clusters[0].size if clusters else 0
            out[f"clusters_{tag}"] = len(clusters)
    return out
