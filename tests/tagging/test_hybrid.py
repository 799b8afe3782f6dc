from __future__ import annotations

import pytest

from voc.catalog import load_catalog
from voc.tagging.base import TagContext
from voc.tagging.hybrid import HybridTagger
from voc.tagging.model import TextModel

PAY = "common.payment.payment_failed"
INTERCEPT = "express.transit.intercept"
WASTED = "freight.loading.wasted_trip"


@pytest.fixture(scope="module")
def tagger():
    texts, labels = [], []
    for i in range(30):
        texts += [
            f"能不能帮我把快递截下来 第{i}次",
            f"please stop my parcel before it reaches them {i}",
            f"付钱的时候一直转圈然后提示失败 {i}",
            f"the checkout would not take my card {i}",
            f"司机到了发现货没准备好 跑了个空 {i}",
        ]
        labels += [INTERCEPT, INTERCEPT, PAY, PAY, WASTED]
    return HybridTagger(load_catalog(), TextModel.train(texts, labels, seed=0))


def test_the_model_tags_what_the_rules_leave(tagger):
    (tag,) = tagger.tag_batch(["能不能帮我把快递截下来"], [TagContext("express", "call")])
    assert (tag.scenario_id, tag.method) == (INTERCEPT, "model")


def test_the_model_overrules_an_app_event_alone(tagger):
    # GIVEN a payment-failure event just before a call that is about a parcel
    ctx = TagContext("express", "call", recent_events=("payment_failed",))
    (tag,) = tagger.tag_batch(["please stop my parcel before it reaches them"], [ctx])
    # THEN the text decides
    assert tag.scenario_id == INTERCEPT


def test_the_model_only_picks_scenarios_of_the_contacts_domain(tagger):
    # A freight text from an express customer cannot become a freight tag.
    (tag,) = tagger.tag_batch(["司机到了发现货没准备好 跑了个空"], [TagContext("express", "call")])
    assert tag is None or tag.scenario_id.split(".")[0] in ("express", "common")
