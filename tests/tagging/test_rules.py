from __future__ import annotations

import pytest

from voc.catalog import load_catalog
from voc.tagging.base import TagContext
from voc.tagging.rules import RuleTagger


@pytest.fixture(scope="module")
def tagger():
    return RuleTagger(load_catalog())


def test_ticket_category_code_wins(tagger):
    tag = tagger.tag_one("whatever", TagContext("express", "ticket", category_code="EXP-INTERCEPT"))
    assert (tag.scenario_id, tag.method) == ("express.transit.intercept", "signal")


def test_app_signal_tags_a_vague_text(tagger):
    ctx = TagContext("ecommerce", "call", recent_events=("page_view", "payment_failed"))
    tag = tagger.tag_one("你好，我想问一下", ctx)
    assert tag.scenario_id == "common.payment.payment_failed"
    assert tag.method == "signal"
    assert "payment_failed" in tag.evidence


def test_keywords_override_an_unrelated_signal(tagger):
    ctx = TagContext("express", "call", recent_events=("payment_failed",))
    tag = tagger.tag_one("我的快递要拦截，别送了", ctx)
    assert tag.scenario_id == "express.transit.intercept"
    assert tag.method == "keyword"


@pytest.mark.parametrize(
    ("text", "domain", "expected"),
    [
        ("司机放空了，白跑一趟", "freight", "freight.loading.wasted_trip"),
        ("ＰＡＹＭＥＮＴ ＦＡＩＬＥＤ again", "ecommerce", "common.payment.payment_failed"),
        ("I want to intercept my parcel", "express", "express.transit.intercept"),
    ],
)
def test_keywords_in_chinese_english_and_full_width(tagger, text, domain, expected):
    assert tagger.tag_one(text, TagContext(domain, "call")).scenario_id == expected


def test_english_keywords_need_word_boundaries(tagger):
    assert (
        tagger.tag_one("please translate this claimant form", TagContext("freight", "call")) is None
    )


def test_other_domains_scenarios_are_not_candidates(tagger):
    # "放空" is a freight scenario; an express contact cannot be tagged with it.
    assert tagger.tag_one("放空", TagContext("express", "call")) is None


def test_abstains_on_out_of_scope_text(tagger):
    assert tagger.tag_one("今天天气不错", TagContext("ecommerce", "social")) is None
