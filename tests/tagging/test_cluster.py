from __future__ import annotations

from voc.tagging.cluster import cluster_texts

TEXTS = [
    "退款三天了还没到账，钱去哪了",
    "退款一直没到账，已经三天了",
    "退款还没到账，请尽快处理",
] * 4 + [
    "the app keeps crashing on startup",
    "app crashing every time I open it",
    "your app crashes when I start it",
] * 4


def test_similar_texts_cluster_together_in_either_language():
    # GIVEN untagged texts about two problems, one in Chinese, one in English
    clusters = cluster_texts(TEXTS, ["ecommerce"] * len(TEXTS), k=2)
    # THEN each problem is one cluster of 12, with its own examples
    assert sorted(c.size for c in clusters) == [12, 12]
    for c in clusters:
        zh = sum("退款" in e for e in c.examples)
        assert zh in (0, len(c.examples))
        assert c.domains == {"ecommerce": 12}


def test_clustering_is_deterministic_and_handles_tiny_and_empty_input():
    assert cluster_texts(TEXTS, k=2) == cluster_texts(TEXTS, k=2)
    assert cluster_texts([]) == []
    assert cluster_texts(["", "只有一条"])[0].size == 2
