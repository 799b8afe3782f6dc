"""How often customers write about each scenario: a prior over the catalog,
estimated here, without a single label, from real text.

A catalog lists 1,411 scenarios; what customers write about is a small, very
uneven part of them (a defect, a fake, a late parcel, fruit gone bad, a price
drop after purchase ... rather than an enterprise invoice or a missed
cross-border tax). The semantic tagger's similarities treat every scenario
alike, so a scenario that shares a word or two with a text wins as easily as
the common one the text is about.

The prior is the scenario mix of real complaints, by expectation-maximisation
over unlabelled text (the EM re-estimation of class priors of Saerens, Latinne
and Decaestecker, 2002): every text's posterior over scenarios is
softmax(BETA x similarity + log prior); the prior becomes the mean posterior;
repeat. The texts are the negative, non-hotel reviews of `online_shopping_zh`
(62,774 real Chinese reviews) that the relevance model finds about a problem;
their labels there (positive / negative, product category) are used only to
pick them, and no hand label, no gold file is read.

At tagging time the prior is half this estimate, half uniform (a hedge: other
channels than reviews have other mixes), and enters the scenario score as
log(prior x n_scenarios) / BETA: the log-prior in the units of the softmax
that estimated it; scenarios outside the estimate get log(1/2) / BETA.

The estimate ships in the package (`scenario_prior_zh.json`, scenario id ->
share, shares under 1e-5 left out); rebuild it with
`python -m voc.tagging.prior PATH/online_shopping_10_cats.csv` (a minute on
one core). A catalog whose ids it does not know gets a uniform prior for them.
"""

from __future__ import annotations

import csv
import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

PRIOR_PATH = Path(__file__).with_name("scenario_prior_zh.json")
# softmax sharpness of the EM posterior, in similarity units; 10-40 gave the same
# prior ranking (the top scenarios and their order did not change)
BETA = 20.0
# share of the prior that is the estimate (the rest uniform)
MIX = 0.5
ITERATIONS = 30
MIN_SHARE = 1e-5
HOTEL = "酒店"


def review_texts(data_csv: Path) -> list[str]:
    """The negative, non-hotel reviews (about goods bought online)."""
    with open(data_csv, encoding="utf-8", newline="") as fh:
        return [
            r["review"]
            for r in csv.DictReader(fh)
            if r.get("label") == "0" and r.get("cat") != HOTEL and (r.get("review") or "").strip()
        ]


def em_prior(scores: np.ndarray, beta: float = BETA, iterations: int = ITERATIONS) -> np.ndarray:
    """Class prior by EM over a (texts, scenarios) score matrix (-inf = not a
    candidate for that text)."""
    x = np.where(np.isfinite(scores), scores, -1e9) * beta
    k = scores.shape[1]
    prior = np.full(k, 1.0 / k)
    for _ in range(iterations):
        z = x + np.log(prior)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        prior = p.mean(axis=0) + 1e-9
        prior /= prior.sum()
    return prior


def build(data_csv: Path, out: Path = PRIOR_PATH, domain: str = "ecommerce") -> dict:
    from voc.catalog import load_catalog
    from voc.paths import DEFAULT_CATALOG
    from voc.tagging.base import TagContext
    from voc.tagging.semantic import SemanticConfig, SemanticTagger

    tagger = SemanticTagger(load_catalog(DEFAULT_CATALOG), config=SemanticConfig(use_prior=False))
    texts = review_texts(data_csv)
    about_a_problem = tagger._relevance(texts) >= tagger.min_relevance
    texts = [t for t, keep in zip(texts, about_a_problem, strict=True) if keep]
    ctx = [TagContext(domain=domain, channel="social")]
    batches = [texts[i : i + 2000] for i in range(0, len(texts), 2000)]
    scores = np.vstack([tagger.scores(b, ctx * len(b)) for b in batches])
    prior = em_prior(scores)
    shares = {
        sid: round(float(p), 6)
        for sid, p in sorted(zip(tagger.ids, prior, strict=True), key=lambda x: -x[1])
        if p >= MIN_SHARE
    }
    doc = {"beta": BETA, "texts": len(texts), "domain": domain, "prior": shares}
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return {"texts": len(texts), "scenarios": len(shares), "top": list(shares.items())[:8]}


@lru_cache(maxsize=1)
def _shipped() -> dict[str, float]:
    if not PRIOR_PATH.exists():
        return {}
    return json.loads(PRIOR_PATH.read_text(encoding="utf-8"))["prior"]


def relative_prior(ids: list[str] | tuple[str, ...], mix: float = MIX) -> np.ndarray:
    """Per scenario: prior x n with prior = mix x estimate + (1 - mix) / n
    (1 everywhere without a shipped estimate)."""
    shares = _shipped()
    n = len(ids)
    if not shares or n == 0:
        return np.ones(n)
    est = np.asarray([shares.get(s, 0.0) for s in ids], dtype=np.float64)
    if est.sum() > 0:
        est /= est.sum()
    return (mix * est + (1 - mix) / n) * n


def log_prior_shift(ids: list[str] | tuple[str, ...], mix: float = MIX) -> np.ndarray:
    """Per scenario: log(prior x n) / BETA, the prior in score units."""
    return (np.log(relative_prior(ids, mix)) / BETA).astype(np.float32)


if __name__ == "__main__":
    print(json.dumps(build(Path(sys.argv[1])), ensure_ascii=False))
