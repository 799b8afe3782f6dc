"""Cluster what the tagger left untagged, so that new issues surface with
example texts instead of hiding in an "untagged" bucket.

Pure (no Beam): character 2-4-gram TF-IDF (Chinese and English alike, no word
segmentation needed), k-means with a fixed seed, and for each cluster the
texts nearest its centre as examples. Deterministic for the same input."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Cluster:
    cluster_id: int
    size: int
    share: float
    examples: tuple[str, ...]
    domains: dict[str, int] = field(default_factory=dict)


def cluster_texts(
    texts: Sequence[str],
    domains: Sequence[str] | None = None,
    *,
    k: int | None = None,
    examples: int = 3,
    seed: int = 0,
) -> list[Cluster]:
    """Clusters, largest first. `k` defaults to sqrt(n / 2), between 2 and 30."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    from voc.tagging.base import normalise

    docs = [normalise(t or "") for t in texts]
    n = len(docs)
    if n == 0:
        return []
    if n < 4:
        return [Cluster(0, n, 1.0, tuple(texts[:examples]), dict(Counter(domains or [])))]
    k = k or max(2, min(30, round(math.sqrt(n / 2))))
    k = min(k, n)
    # max_df drops the n-grams of greetings and channel boilerplate ("Hello,
    # this is customer service"), which would otherwise decide the clusters.
    # On small samples every n-gram is "frequent": keep them all there.
    max_df = 0.05 if n >= 500 else 1.0
    x = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1, max_df=max_df
    )
    try:
        matrix = x.fit_transform(docs)
    except ValueError:  # nothing but blanks: one cluster of them
        return [
            Cluster(0, n, 1.0, tuple(dict.fromkeys(texts))[:examples], dict(Counter(domains or [])))
        ]
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(matrix)
    distances = km.transform(matrix)
    out = []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        if not len(members):
            continue
        nearest = members[np.argsort(distances[members, c], kind="stable")]
        seen: list[str] = []
        for i in nearest:
            if texts[i] not in seen:
                seen.append(texts[i])
            if len(seen) == examples:
                break
        doms = Counter(domains[i] for i in members) if domains is not None else Counter()
        out.append(Cluster(c, len(members), round(len(members) / n, 4), tuple(seen), dict(doms)))
    out.sort(key=lambda cl: (-cl.size, cl.cluster_id))
    return [Cluster(i, cl.size, cl.share, cl.examples, cl.domains) for i, cl in enumerate(out)]
