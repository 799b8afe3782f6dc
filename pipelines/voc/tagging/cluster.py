"""Cluster what the tagger left untagged, so that new issues surface with a
name and example texts instead of hiding in an "untagged" bucket.

Pure (no Beam). Clusters are about the problem, not the phrasing around it:

1. Each text is cut to the customer's own words (voc.learning.words): agent
   turns, speaker labels, order numbers, handles and sentences that recur
   across many contacts (greetings, closings, stock phrases) are removed.
2. Character 2-4-gram TF-IDF of what is left (Chinese and English alike, no
   word segmentation needed), n-grams in more than 5 % of the texts dropped;
   reduced to 100 dimensions (LSA) and normalised; k-means with a fixed seed.
3. Each cluster is named by its most distinctive terms, class-based TF-IDF
   (c-TF-IDF): a term's share of the cluster's terms times log(1 + the average
   cluster's term count / the term's count over all clusters); Chinese terms
   are character 2-3-grams, English terms words and word pairs.

Deterministic for the same input. `purity` scores a clustering against known
classes (the simulator's true scenarios)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from voc.learning.words import Boilerplate, customer_words
from voc.tagging.base import normalise

NAME_TERMS = 4
LSA_DIMS = 100
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z']{2,}")
_STOP_WORDS = (
    "the and for you your with this that have has had was were are but not can could "
    "would will just been from what when they them there then than into about please "
    "thanks thank hello okay yes also its it's i'm i've don't didn't"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Cluster:
    cluster_id: int
    size: int
    share: float
    examples: tuple[str, ...]
    domains: dict[str, int] = field(default_factory=dict)
    name: str = ""
    terms: tuple[str, ...] = ()
    members: tuple[int, ...] = ()  # indices into the clustered texts


def terms(words: str) -> list[str]:
    """Naming terms of cleaned text: Chinese character 2-3-grams, English words and pairs."""
    out: list[str] = []
    for run in _CJK.findall(words):
        out += [run[i : i + n] for n in (2, 3) for i in range(len(run) - n + 1)]
    latin = [w for w in _WORD.findall(words) if w not in _STOP]
    out += latin + [f"{a} {b}" for a, b in zip(latin, latin[1:], strict=False)]
    return out


def c_tf_idf_names(docs: Sequence[str], labels: Sequence[int], top: int = NAME_TERMS):
    """cluster label -> its most distinctive terms (each counted once per text)."""
    per: dict[int, Counter] = {}
    for doc, label in zip(docs, labels, strict=True):
        per.setdefault(label, Counter()).update(set(terms(doc)))
    total = Counter()
    for counts in per.values():
        total.update(counts)
    avg = sum(total.values()) / max(1, len(per))
    names: dict[int, tuple[str, ...]] = {}
    for label, counts in per.items():
        size = sum(1 for lab in labels if lab == label)
        n_terms = sum(counts.values()) or 1
        floor = max(2, math.ceil(0.1 * size)) if size >= 5 else 1
        scored = sorted(
            (
                (-(c / n_terms) * math.log(1 + avg / total[t]), t)
                for t, c in counts.items()
                if c >= floor
            ),
        )
        chosen: list[str] = []
        for _, t in scored:
            if any(t in c or c in t for c in chosen):
                continue
            chosen.append(t)
            if len(chosen) == top:
                break
        names[label] = tuple(chosen)
    return names


def cluster_texts(
    texts: Sequence[str],
    domains: Sequence[str] | None = None,
    *,
    k: int | None = None,
    examples: int = 3,
    seed: int = 0,
    words_only: bool = True,
) -> list[Cluster]:
    """Clusters, largest first. `k` defaults to sqrt(n / 2), between 2 and 30.
    `words_only=False` clusters the whole text (the baseline the bench compares)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    n = len(texts)
    if n == 0:
        return []
    # on a small sample a repeated sentence is as likely the problem as boilerplate
    boilerplate = Boilerplate.fit(texts) if n >= 200 and words_only else None
    docs = [
        customer_words(t or "", boilerplate) if words_only else normalise(t or "") for t in texts
    ]
    everyone = tuple(range(n))
    if n < 4:
        return [
            Cluster(
                0, n, 1.0, tuple(texts[:examples]), dict(Counter(domains or [])), members=everyone
            )
        ]
    k = k or max(2, min(30, round(math.sqrt(n / 2))))
    k = min(k, n)
    # max_df drops n-grams shared by many texts (what is left of stock phrasing);
    # on small samples every n-gram is "frequent": keep them all there.
    max_df = 0.05 if n >= 500 else 1.0
    x = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1, max_df=max_df
    )
    try:
        matrix = x.fit_transform(docs)
    except ValueError:  # nothing but blanks and boilerplate: one cluster of them
        return [
            Cluster(
                0,
                n,
                1.0,
                tuple(dict.fromkeys(texts))[:examples],
                dict(Counter(domains or [])),
                members=everyone,
            )
        ]
    if matrix.shape[1] > LSA_DIMS * 2 and n > LSA_DIMS * 2:
        # k-means on unit vectors of a 100-dimension LSA: on sparse n-grams it
        # makes one giant cluster of every short text (measured on the demo's
        # untagged contacts: the largest of 300 clusters 1,127 texts, with LSA 30)
        svd = TruncatedSVD(LSA_DIMS, random_state=seed)
        matrix = normalize(svd.fit_transform(matrix))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(matrix)
    distances = km.transform(matrix)
    names = c_tf_idf_names(docs, [int(v) for v in km.labels_])
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
        words = names.get(c, ())
        out.append(
            Cluster(
                c,
                len(members),
                round(len(members) / n, 4),
                tuple(seen),
                dict(doms),
                " / ".join(words),
                words,
                tuple(int(i) for i in members),
            )
        )
    out.sort(key=lambda cl: (-cl.size, cl.cluster_id))
    return [
        Cluster(i, cl.size, cl.share, cl.examples, cl.domains, cl.name, cl.terms, cl.members)
        for i, cl in enumerate(out)
    ]


def purity(clusters: Sequence[Cluster], truth: Sequence[Hashable]) -> float:
    """Share of texts whose cluster's most common true class is their own."""
    n = sum(c.size for c in clusters)
    if not n:
        return 0.0
    right = sum(max(Counter(truth[i] for i in c.members).values()) for c in clusters if c.members)
    return round(right / n, 4)
