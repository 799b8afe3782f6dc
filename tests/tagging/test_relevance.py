from __future__ import annotations

import csv

from voc.tagging.model import TextModel
from voc.tagging.relevance import (
    IN_SCOPE,
    MODEL_PATH,
    OUT_OF_SCOPE,
    build,
    in_scope_probability,
    weak_labels,
)


def _row(text, label, cat="水果"):
    return {"cat": cat, "label": label, "review": text}


def test_weak_labels_follow_the_rule():
    # GIVEN a negative review with a problem, praise, a hotel complaint and a product opinion
    rows = [
        _row("快递太慢了，一个星期才到", "0"),
        _row("快递很快，东西很好", "1"),
        _row("房间太小，服务员态度恶劣", "0", cat="酒店"),
        _row("颜色一般，性价比不高", "0"),
        _row("", "0"),
    ]
    texts, labels = weak_labels(rows)
    # THEN only the negative non-hotel review naming a problem is in scope; blanks are skipped
    assert len(texts) == 4
    assert labels == [IN_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE]


def _write_reviews(path, n, problem):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cat", "label", "review"])
        for i in range(n):
            w.writerow(["水果", "0", problem(i)])
            w.writerow(["水果", "1", f"苹果很甜，第{i}次买了"])


def test_the_build_writes_a_model_that_loads(tmp_path):
    src, out = tmp_path / "reviews.csv", tmp_path / "rel.npz"
    _write_reviews(src, 40, lambda i: f"快递太慢了，等了{i}天还没到")
    report = build(src, out)
    assert report["texts"] == 80 and report["in_scope"] == 40
    model = TextModel.load(out)
    assert set(model.labels) == {IN_SCOPE, OUT_OF_SCOPE}
    # too few texts for a held-out split: the gate is the decision boundary
    assert model.abstain_threshold == report["gate"] == 0.5


def test_the_gate_keeps_most_weakly_in_scope_held_out_texts(tmp_path):
    # GIVEN enough reviews for a held-out split, problems worded in many ways
    src, out = tmp_path / "reviews.csv", tmp_path / "rel.npz"
    problems = ["快递太慢了", "收到就坏了", "发错货了", "少发了一件", "包装破损", "是假货"]
    _write_reviews(src, 300, lambda i: f"{problems[i % len(problems)]}，第{i}单，气人")
    report = build(src, out)
    # THEN the gate is a P(in scope) at or under the decision boundary that the
    # held-out in-scope texts mostly clear
    model = TextModel.load(out)
    assert 0.0 < report["gate"] <= 0.5 and model.abstain_threshold == report["gate"]
    p = in_scope_probability_of(model, [f"{x}，新的一单" for x in problems])
    assert (p >= report["gate"]).mean() >= 0.8


def in_scope_probability_of(model, texts):
    return model.predict_proba(texts)[:, model.labels.index(IN_SCOPE)]


def test_the_shipped_model_separates_a_problem_from_praise():
    assert MODEL_PATH.is_file()
    p = in_scope_probability(["送货太慢了，等了十天才到，包装还是破的", "酒店早餐丰富，房间干净"])
    assert p[0] > 0.5 > p[1]
