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


def test_the_build_writes_a_model_that_loads(tmp_path):
    src, out = tmp_path / "reviews.csv", tmp_path / "rel.npz"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cat", "label", "review"])
        for i in range(40):
            w.writerow(["水果", "0", f"快递太慢了，等了{i}天还没到"])
            w.writerow(["水果", "1", f"苹果很甜，第{i}次买了"])
    report = build(src, out)
    assert report["texts"] == 80 and report["in_scope"] == 40
    model = TextModel.load(out)
    assert set(model.labels) == {IN_SCOPE, OUT_OF_SCOPE}


def test_the_shipped_model_separates_a_problem_from_praise():
    assert MODEL_PATH.is_file()
    p = in_scope_probability(["送货太慢了，等了十天才到，包装还是破的", "酒店早餐丰富，房间干净"])
    assert p[0] > 0.5 > p[1]
