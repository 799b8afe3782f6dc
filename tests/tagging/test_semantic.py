from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voc.catalog import load_catalog
from voc.paths import DEFAULT_CATALOG
from voc.tagging.base import TagContext
from voc.tagging.semantic import Lexicon, SemanticTagger, semantic_tagger, words


@pytest.fixture(scope="module")
def tagger() -> SemanticTagger:
    return semantic_tagger(str(DEFAULT_CATALOG))


def _tag(tagger, text, domain="ecommerce", **ctx):
    (tag,) = tagger.tag_batch([text], [TagContext(domain=domain, channel="social", **ctx)])
    return tag


def test_customer_wording_with_no_catalog_keyword_is_tagged(tagger):
    # GIVEN wording that contains none of the scenario's keywords verbatim
    text = "东西等了一个多星期还没送到，物流太慢了"
    s = load_catalog()["ecommerce.shipping.delivery_delay"]
    assert not any(k in text for k in s.keywords_zh)
    # THEN the meaning still finds the scenario
    tag = _tag(tagger, text)
    assert tag is not None and tag.scenario_id == "ecommerce.shipping.delivery_delay"
    assert tag.method == "semantic" and 0 < tag.confidence <= 1


def test_a_hotel_review_is_not_claimed_by_any_scenario(tagger):
    assert _tag(tagger, "酒店位置不错，房间干净，早餐种类也多，下次还来住") is None


def test_only_the_contacts_domain_and_common_compete(tagger):
    tag = _tag(tagger, "司机到了装货地点发现货没准备好，白跑一趟", domain="express")
    assert tag is None or tag.scenario_id.split(".")[0] in ("express", "common")


def test_paraphrase_concepts_link_customer_and_catalog_words():
    lex = Lexicon({"slow": ["慢", "迟迟", "late"], "courier": ["快递员"]})
    assert lex.concepts_in("快递迟迟不到") == {"slow"}
    # English forms match on word boundaries only
    assert lex.concepts_in("chocolate") == set()
    assert lex.concepts_in("it is late") == {"slow"}


def test_chinese_is_segmented_into_content_words():
    assert "快递" in words("快递太慢了") and "的" not in words("我的快递")


def test_the_journey_stage_narrows_between_close_candidates(tagger):
    # GIVEN a text that fits scenarios of two stages about as well
    text = "钱还没退"
    ctx = [TagContext("ecommerce", "call", journey_stage=st) for st in ("order", "after_sale")]
    scores = tagger.scores([text, text], ctx)
    stage = np.asarray([s.stage for s in tagger.catalog.scenarios])
    # THEN each context lifts the scenarios of its own stage
    assert scores[0][stage == "order"].max() - scores[1][stage == "order"].max() > 0
    assert scores[1][stage == "after_sale"].max() - scores[0][stage == "after_sale"].max() > 0


def test_confidence_rises_with_score_and_margin(tagger):
    low = tagger.confidence(np.array([0.3]), np.array([0.0]))
    high = tagger.confidence(np.array([0.8]), np.array([0.2]))
    assert 0 <= low[0] < high[0] <= 1


def test_a_catalog_without_examples_still_tags_and_abstains_cautiously():
    # GIVEN the catalog stripped of every customer example
    cat = load_catalog()
    bare = dataclasses.replace(
        cat,
        scenarios=tuple(
            dataclasses.replace(s, examples_zh=(), examples_en=()) for s in cat.scenarios
        ),
        _by_id={},
    )
    tagger = SemanticTagger(bare)
    # THEN the default confidence curve is used and texts still get scores
    assert tagger._calibration == (8.0, 8.0, -3.0)
    assert tagger.scores(["退款一直没到账"], [TagContext("ecommerce", "call")]).shape[1] == len(cat)


def test_empty_and_agent_only_texts_abstain(tagger):
    assert _tag(tagger, "") is None
    assert _tag(tagger, "客服：您好，请问有什么可以帮您？") is None


def test_a_batch_of_two_domains_scores_each_text_within_its_own(tagger):
    # GIVEN one batch with an e-commerce and an express contact
    ctx = [TagContext("ecommerce", "social"), TagContext("express", "call")]
    scores = tagger.scores(["快递太慢了", "快递太慢了"], ctx)
    domain = np.asarray([s.domain for s in tagger.catalog.scenarios])
    # THEN each row has finite scores for its domain and common only
    for row, d in zip(scores, ("ecommerce", "express"), strict=True):
        allowed = (domain == d) | (domain == "common")
        assert np.isfinite(row[allowed]).all() and np.isneginf(row[~allowed]).all()
    # AND a one-domain batch gives the same scores as the mixed batch for its row
    alone = tagger.scores(["快递太慢了"], ctx[:1])
    assert np.allclose(alone[0][np.isfinite(alone[0])], scores[0][np.isfinite(scores[0])])


def test_hashed_lookups_find_what_the_automaton_and_segmenter_find(tagger):
    # GIVEN Chinese, English and mixed texts, with one-character, long and
    # English forms of the lexicon, and words of the catalog
    texts = [
        "快递迟迟不到，东西还是坏的，比我买的便宜",
        "it is late and the parcel was damaged",
        "chocolate 有点臭，苹果烂了四个",
        "七天无理由退货都不给退，客服态度凶",
        "",
    ]
    from voc.tagging.text import normalise

    norms = [normalise(t) for t in texts]
    found = tagger._strings.find(norms)
    rows, cols = tagger._concepts.pairs(norms, *tagger._strings.hits("forms", found))
    index = tagger._concepts.vocab.index
    names = {i: c for c, i in index.items()}
    for i, norm in enumerate(norms):
        # THEN the hashed concepts are exactly the automaton's concepts
        expected = {c for c in tagger.lexicon.concepts_in(norm) if c in index}
        assert {names[j] for j in cols[rows == i].tolist()} == expected
    # AND every catalog word jieba finds in a text is found by its hash
    counts = tagger._words.counts(norms, *tagger._strings.hits("words", found))
    for i, norm in enumerate(norms):
        found = {w for w, j in tagger._words.index.items() if counts[i, j] > 0}
        assert {w for w in words(norm) if w in tagger._words.index} <= found


def test_keyword_candidates_never_hide_a_keyword_from_the_rules(tagger):
    # GIVEN texts that hold catalog keywords (Chinese, English, in mixed text,
    # past the semantic cut of a long text), texts that hold none, and the
    # rules that read the same catalog
    from voc.tagging.rules import RuleTagger, catalog_keywords

    keywords = sorted(catalog_keywords(tagger.catalog))
    zh = [k for k in keywords if not k.isascii()][::40]
    en = [k for k in keywords if k.isascii()][::40]
    filler = "东西收到了，" * 80  # longer than max_chars
    texts = [f"说实话{k}，真的" for k in zh] + [f"well, {k}!" for k in en]
    texts += [f"订单 {k} 呢" for k in en[:20]] + [filler + k for k in zh[:20]]
    texts += ["今天天气不错", "苹果很甜", "", "ok thanks"]
    rules = RuleTagger(tagger.catalog)
    ctx = [TagContext(domain=None, channel="")] * len(texts)
    # WHEN the automaton runs only on the keyword candidates
    scan = tagger.keyword_candidates(tagger.read(texts))
    # THEN the rules tag exactly as when they read every text
    assert rules.tag_batch(texts, ctx, scan=scan.tolist()) == rules.tag_batch(texts, ctx)
    # AND Chinese texts without any keyword's first characters are skipped
    assert not scan[-4:-2].any()
    assert sum(t is not None for t in rules.tag_batch(texts, ctx)) > len(zh) // 2


def test_the_relevance_gate_comes_first_and_only_what_passes_is_scored(tagger, monkeypatch):
    # GIVEN a batch of real-looking reviews: praise, a hotel, product opinions
    # and service problems
    texts = [
        "东西等了一个多星期还没送到，物流太慢了",
        "酒店位置不错，房间干净，早餐种类也多，下次还来住",
        "很好很好，孩子很喜欢，推荐购买",
        "客服态度很差，问了三遍都不回",
        "收到的苹果烂了四个，包装也破了",
        "书的内容一般，没有想象中好看",
    ]
    ctx = [TagContext(domain="ecommerce", channel="social")] * len(texts)
    relevance = tagger._relevance(texts)
    passed = relevance >= tagger.min_relevance
    assert passed.any() and not passed.all()
    scored = []
    original = tagger._scores

    def spy(batch, contexts, **kw):
        scored.extend(batch)
        return original(batch, contexts, **kw)

    monkeypatch.setattr(tagger, "_scores", spy)
    # WHEN the batch is tagged
    tags = tagger.tag_batch(texts, ctx)
    # THEN only the texts over the gate were scored, the others abstained
    assert scored == [t for t, p in zip(texts, passed, strict=True) if p]
    assert all(tag is None for tag, p in zip(tags, passed, strict=True) if not p)
    # AND each text is tagged as it is alone
    monkeypatch.undo()
    assert tags == [tagger.tag_batch([t], ctx[:1])[0] for t in texts]
