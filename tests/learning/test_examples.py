"""Labelled examples: the overlay file round trip and the nearest-example tagger."""

from __future__ import annotations

import pytest

from voc.learning.examples import (
    ExampleTagger,
    LabelledExample,
    OverlayError,
    read_overlay,
    write_overlay,
)
from voc.tagging.base import TagContext

FAKE = "express.delivery.fake_signature"


def test_overlay_round_trip_and_bad_files(tmp_path) -> None:
    # GIVEN two labelled examples written to an overlay
    path = tmp_path / "w.labels.yaml"
    rows = [
        LabelledExample(
            FAKE, "显示签收了但我没收到", "zh", "c1", "cluster 3", "2026-12-01T00:00:00Z"
        ),
        LabelledExample("common.app.app_crash", "app closes itself", "en", "c2", "contact"),
    ]
    # WHEN written and read back
    assert write_overlay(path, rows) == 2
    # THEN they are the same, and a broken file is a clear error
    assert read_overlay(path) == rows
    (tmp_path / "bad.yaml").write_text("version: 1\nexamples: [{text: no id}]\n", encoding="utf-8")
    with pytest.raises(OverlayError, match="examples\\[0\\]"):
        read_overlay(tmp_path / "bad.yaml")
    with pytest.raises(OverlayError, match="not found"):
        read_overlay(tmp_path / "missing.yaml")


def test_nearest_labelled_example_tags_within_the_domain_and_abstains_far_away() -> None:
    # GIVEN a few labelled examples of two problems
    tagger = ExampleTagger(
        [
            LabelledExample(FAKE, "快递显示已经签收了，可我根本没收到包裹"),
            LabelledExample(FAKE, "系统说签收了，东西没见到"),
            LabelledExample("ecommerce.after_sale.refund_delay", "退款申请了一周了钱还没回来"),
        ]
    )
    express = TagContext(domain="express", channel="call")
    shop = TagContext(domain="ecommerce", channel="call")
    # WHEN similar and unrelated texts are tagged
    tags = tagger.tag_batch(
        ["我的快递显示签收了但是没收到", "我的快递显示签收了但是没收到", "今天天气不错，谢谢"],
        [express, shop, express],
    )
    # THEN the similar text gets the label in its own domain only, the unrelated none
    assert tags[0] is not None and tags[0].scenario_id == FAKE and tags[0].method == "model"
    assert tags[1] is None or tags[1].scenario_id.startswith(("ecommerce.", "common."))
    assert tags[2] is None
