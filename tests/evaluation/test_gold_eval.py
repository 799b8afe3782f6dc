from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from voc.cli import main
from voc.evaluation.data import EvaluationDataError
from voc.evaluation.gold import evaluate_gold
from voc.paths import DEFAULT_CATALOG
from voc.tagging.base import TagContext
from voc.tagging.hybrid import build_tagger

DELAY = "ecommerce.shipping.delivery_delay"
FAKE = "ecommerce.after_sale.counterfeit_suspicion"


def _gold(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "best_id", "accepted_ids", "category"])
        w.writerows(rows)


def test_gold_figures_follow_their_definitions(tmp_path):
    # GIVEN in-scope rows, one whose accepted id the tagger cannot reach, and off-topic rows
    rows = [
        ["快递太慢了，等了一个多星期还没送到", DELAY, DELAY, "ecommerce.shipping/delay"],
        ["这洗发水肯定是假货，跟专柜的不一样", FAKE, FAKE, "ecommerce.after_sale/counterfeit"],
        ["快递太慢了，等了一个多星期还没送到", FAKE, FAKE, "ecommerce.after_sale/counterfeit"],
        ["酒店早餐不错，房间很干净", "", "", ""],
        ["", "", "", ""],
    ]
    src = tmp_path / "gold.csv"
    _gold(src, rows)
    tagger = build_tagger(DEFAULT_CATALOG)
    tags = tagger.tag_batch([r[0] for r in rows], [TagContext("ecommerce", "social")] * 5)
    # WHEN scored
    report = evaluate_gold(src)
    # THEN each figure is the share its definition names, computed from the same tags
    right = sum(
        t is not None and t.scenario_id == r[1] for t, r in zip(tags[:3], rows[:3], strict=True)
    )
    assert report["n"] == 5 and report["in_scope"] == 3 and report["out_of_scope"] == 2
    assert report["scenario_accuracy"] == pytest.approx(right / 3)
    assert report["scenario_accuracy"] <= 2 / 3  # row 3's accepted id is not what its text says
    assert report["oos_abstain_rate"] == pytest.approx(sum(t is None for t in tags[3:]) / 2)
    assert report["coverage"] == pytest.approx(sum(t is not None for t in tags[:3]) / 3)
    assert report["category_accuracy"] >= report["scenario_accuracy"]


def test_gold_needs_its_columns(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("text,label\n退款没到账,x\n", encoding="utf-8")
    with pytest.raises(EvaluationDataError, match="best_id"):
        evaluate_gold(src)


def test_eval_gold_prints_json(tmp_path):
    src = tmp_path / "gold.csv"
    _gold(src, [["快递太慢了，等了一个多星期还没送到", DELAY, DELAY, "ecommerce.shipping/delay"]])
    result = CliRunner().invoke(main, ["eval", "gold", "--input", str(src), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert {"scenario_accuracy", "category_accuracy", "oos_abstain_rate", "coverage", "n"} <= set(
        report
    )


def test_catalog_examples_are_scored_without_their_own_document():
    import numpy as np

    from voc.evaluation.gold import evaluate_catalog_examples
    from voc.tagging.semantic import semantic_tagger

    # GIVEN the held-out figure on the default catalog's Chinese examples
    held_out = evaluate_catalog_examples()
    assert held_out["n"] > 100
    assert held_out["category_accuracy"] >= held_out["scenario_accuracy"]
    # WHEN the same examples are scored with their own document left in
    tagger = semantic_tagger(str(DEFAULT_CATALOG))
    pairs = [
        (i, r)
        for i, r in tagger.example_documents()
        if tagger.catalog.scenarios[i].domain in ("ecommerce", "common")
        and tagger.document(r) in tagger.catalog.scenarios[i].examples_zh
    ]
    texts = [tagger.document(r) for _, r in pairs]
    scores = tagger.scores(texts, [TagContext("ecommerce", "social")] * len(texts))
    seen = float((scores.argmax(axis=1) == np.asarray([i for i, _ in pairs])).mean())
    # THEN the held-out figure is the harder one (the example is not its own answer)
    assert len(pairs) == held_out["n"]
    assert seen > held_out["scenario_accuracy"]
