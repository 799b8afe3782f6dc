"""The learned text model: trained on a small synthetic zh + en set, it tags unseen
phrasings, abstains on gibberish, survives any unicode, and round-trips to disk."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.tagging.model import (
    ModelFormatError,
    ModelTrainingError,
    TextModel,
    expected_calibration_error,
)
from voc.tagging.text import Featuriser, normalise

# label -> (English phrasings, Chinese phrasings); {x} takes a filler word
PHRASES = {
    "refund_delay": (
        [
            "where is my refund {x}",
            "refund not received yet {x}",
            "still waiting for the refund {x}",
            "my refund has not arrived {x}",
            "when will the money be refunded {x}",
        ],
        [
            "退款还没到账{x}",
            "我的退款什么时候到{x}",
            "退款一直没收到{x}",
            "申请退款很久了还没退{x}",
        ],
    ),
    "parcel_lost": (
        [
            "my parcel is lost {x}",
            "the package never arrived {x}",
            "courier lost my parcel {x}",
            "tracking shows no update, parcel missing {x}",
            "package lost in transit {x}",
        ],
        ["快递丢了{x}", "包裹一直没收到，物流不更新{x}", "我的快递丢件了{x}", "包裹丢失怎么办{x}"],
    ),
    "login_failed": (
        [
            "cannot log in to the app {x}",
            "login keeps failing {x}",
            "password not accepted {x}",
            "i am locked out of my account {x}",
            "app says wrong password when i log in {x}",
        ],
        [
            "登录不上{x}",
            "密码正确但是登录失败{x}",
            "账号被锁了登不进去{x}",
            "一直提示密码错误无法登录{x}",
        ],
    ),
    "card_declined": (
        [
            "my card was declined {x}",
            "payment failed with my card {x}",
            "card payment rejected {x}",
            "why was my card declined at checkout {x}",
            "the shop says my card does not work {x}",
        ],
        ["银行卡支付失败{x}", "付款的时候卡被拒了{x}", "刷卡被拒绝{x}", "信用卡付不了款{x}"],
    ),
}
FILLERS = [
    "",
    "please help",
    "again",
    "today",
    "thanks",
    "urgent",
    "谢谢",
    "急",
    "请尽快处理",
    "!!",
]


def synthetic(n_per_label: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, (en, zh) in PHRASES.items():
        for i in range(n_per_label):
            template = rng.choice(en if i % 2 else zh)
            texts.append(template.format(x=rng.choice(FILLERS)).strip())
            labels.append(label)
    return texts, labels


@cache
def trained() -> TextModel:
    texts, labels = synthetic(60, seed=1)
    return TextModel.train(texts, labels, seed=0)


def test_model_tags_unseen_texts_in_both_languages():
    # GIVEN a model trained on zh + en phrasings
    model = trained()
    # WHEN it tags new combinations of those phrasings
    texts, labels = synthetic(10, seed=99)
    predicted, confidence = model.predict(texts)
    # THEN almost all are right and confident
    right = np.mean([p == y for p, y in zip(predicted, labels, strict=True)])
    assert right >= 0.9
    assert set(model.labels) == set(PHRASES)
    assert np.all((confidence >= 0) & (confidence <= 1))


def test_model_folds_full_width_and_case():
    model = trained()
    predicted, _ = model.predict(["ＭＹ ＣＡＲＤ ＷＡＳ ＤＥＣＬＩＮＥＤ", "退款还没到账！"])
    assert predicted == ["card_declined", "refund_delay"]


def test_model_abstains_on_gibberish_and_empty_text():
    model = trained()
    predicted, confidence = model.predict(
        ["", "   ", "qzxv wplkj ffrt", "🙂🙂🙂", "天气晴朗，阳光明媚"]
    )
    assert predicted == [None] * 5
    assert np.all(confidence < model.abstain_threshold)


def test_threshold_is_chosen_on_training_data_and_can_be_given():
    texts, labels = synthetic(60, seed=1)
    chosen = trained()
    assert 0.0 < chosen.abstain_threshold < 1.0
    assert chosen.validation["coverage"] >= 0.95
    given_model = TextModel.train(texts, labels, abstain_threshold=0.0)
    predicted, _ = given_model.predict(["qzxv wplkj ffrt"])
    assert predicted[0] in PHRASES  # never abstains at threshold 0


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    model = trained()
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = TextModel.load(path)
    texts, _ = synthetic(5, seed=7)
    texts += ["", "gibberish zzz", "退款"]
    before, conf_before = model.predict(texts)
    after, conf_after = loaded.predict(texts)
    assert after == before
    np.testing.assert_array_equal(conf_after, conf_before)
    assert loaded.labels == model.labels
    assert loaded.abstain_threshold == model.abstain_threshold


def test_load_rejects_a_file_that_is_not_a_model(tmp_path):
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelFormatError):
        TextModel.load(bogus)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(ModelFormatError):
        TextModel.load(other)


def test_training_needs_two_labels_and_matching_lengths():
    with pytest.raises(ModelTrainingError):
        TextModel.train(["a", "b"], ["x", "x"])
    with pytest.raises(ModelTrainingError):
        TextModel.train(["a", "b"], ["x"])


def test_tiny_training_sets_and_missing_texts_still_train():
    # GIVEN too few texts for a validation split, one of them missing (NaN from a CSV)
    model = TextModel.train(["refund please", float("nan"), "parcel lost"], ["r", "r", "p"])
    predicted, confidence = model.predict(["parcel lost", None])
    assert predicted[0] == "p"
    assert confidence.shape == (2,)


def test_predict_of_nothing_is_empty():
    predicted, confidence = trained().predict([])
    assert predicted == [] and confidence.shape == (0,)


@settings(max_examples=60)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=50),
            st.text(alphabet=st.characters(codec="utf-8"), min_size=500, max_size=3000),
            st.sampled_from(["", " ", "\x00", "🙂" * 200, "\u3000全角　空格", "\ufeff"]),
        ),
        max_size=8,
    )
)
def test_predict_never_crashes_on_any_unicode(texts):
    predicted, confidence = trained().predict(texts)
    assert len(predicted) == len(texts) == confidence.shape[0]
    assert np.all((confidence >= 0.0) & (confidence <= 1.0))
    assert all(p is None or p in PHRASES for p in predicted)


def test_normalise_folds_width_case_and_space():
    assert normalise("ＡＢＣ　１２３\t\nDef") == "abc 123 def"
    assert normalise(None) == ""
    assert normalise(float("nan")) == ""


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),  # full-width forms
            st.sampled_from("\u3000，。！？：；（）ａＺ１ｶﾞ\u0301\u0308ﬁ①㎏Å"),
            st.characters(codec="utf-8"),
        ),
        max_size=40,
    )
)
def test_the_fast_fold_is_nfkc_and_lower_case(text):
    # the full-width shortcuts (one text, a batch) must give exactly NFKC +
    # lower case, whatever follows a full-width form (combining marks, other
    # compatibility forms), and whitespace runs fold as the regex \s+ does
    import re
    import unicodedata

    from voc.tagging.base import normalise as fold
    from voc.tagging.base import normalise_many as fold_many
    from voc.tagging.text import normalise_many

    expected = unicodedata.normalize("NFKC", text).lower()
    assert fold(text) == expected
    assert fold_many([text, "ＡＢ，", text]) == [expected, "ab,", expected]
    spaced = re.sub(r"\s+", " ", expected).strip()
    assert normalise(text) == spaced
    assert normalise_many(["", text]) == ["", spaced]


def test_the_word_block_of_a_batch_is_each_texts_own():
    # GIVEN a featuriser with a word vocabulary and a batch where most texts
    # hold no word (Chinese), some do, at the start, the end or alone
    texts = ["my card was declined", "快递太慢了", "", "退款 refund 还没到", "top up", "好"]
    f = Featuriser(char_ngrams=(0, 0), word_ngrams=(1, 2), min_df=1).fit(
        [normalise(t) for t in texts]
    )
    batch = [normalise(t) for t in ["没有", *texts, "card 没到", "收到了"]]
    # WHEN the word block is built for the batch at once
    block = f.word_block(batch).toarray()
    # THEN each row equals the block of that text alone
    for i, t in enumerate(batch):
        np.testing.assert_array_equal(block[i], f.word_block([t]).toarray()[0])
    assert block[0].sum() == 0 and block[1].sum() > 0 and block[-2].sum() > 0


def test_char_features_match_scikit_learn_tfidf():
    # GIVEN the same texts, padded the way the featuriser pads them
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [normalise(t) for t in synthetic(8, seed=3)[0]]
    ours = Featuriser(char_ngrams=(1, 3), word_ngrams=(0, 0), min_df=1).fit(docs)
    theirs = TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 3),
        sublinear_tf=True,
        lowercase=False,
        preprocessor=lambda s: f" {s} ",
    ).fit(docs)
    # WHEN both weigh them
    a, b = ours.transform(docs), theirs.transform(docs).astype(np.float32)
    # THEN the vocabularies match and every row has the same weights (column order differs)
    assert a.shape == b.shape
    for i in range(len(docs)):
        np.testing.assert_allclose(np.sort(a[i].data), np.sort(b[i].data), rtol=1e-5)


def test_expected_calibration_error_of_a_perfect_model_is_zero():
    assert expected_calibration_error(np.ones(4), np.ones(4, dtype=bool)) == 0.0
    assert expected_calibration_error(np.full(4, 0.9), np.zeros(4, dtype=bool)) == pytest.approx(
        0.9
    )


def test_out_of_scope_threshold_stops_at_the_first_coverage_reaching_the_recall():
    from voc.tagging.model import MIN_OOS_COVERAGE, _threshold_for_oos_recall

    # GIVEN validation confidences 0.01 .. 1.00 and two rounds of held-out texts
    confidence = np.arange(1, 101) / 100
    oos = [np.array([0.02, 0.04, 0.5, 0.9]), np.array([0.03, 0.6])]
    # WHEN the target is a recall of 0.5 in both rounds
    threshold, recall = _threshold_for_oos_recall(confidence, oos, 0.5)
    # THEN the threshold is the lowest that abstains on half of each round's texts:
    # 0.05 (95 % of validation answered); 0.04 would keep 0.04 answered
    assert threshold == pytest.approx(0.05)
    assert recall == pytest.approx(0.5)
    # AND an unreachable target stops at the coverage floor
    threshold, recall = _threshold_for_oos_recall(confidence, oos, 1.0)
    assert np.mean(confidence >= threshold) == pytest.approx(MIN_OOS_COVERAGE)
    assert recall < 1.0


def test_out_of_scope_aware_model_estimates_recall_on_held_out_labels(tmp_path):
    from voc.tagging.model import MAX_CHOSEN_THRESHOLD, MIN_OOS_COVERAGE, ModelConfig

    texts, labels = synthetic(60, seed=1)
    config = ModelConfig(target_oos_recall=0.6)
    model = TextModel.train(texts, labels, seed=0, config=config)
    # the estimate comes from validation texts of labels held out of training
    assert model.validation["oos_n"] > 0
    assert 0.0 <= model.validation["oos_recall"] <= 1.0
    # the target is met, or the threshold stopped at the coverage floor or the cap
    assert (
        model.validation["oos_recall"] >= 0.6
        or model.validation["coverage"] <= MIN_OOS_COVERAGE + 0.01
        or model.abstain_threshold == MAX_CHOSEN_THRESHOLD
    )
    # the setting travels with the saved model
    model.save(tmp_path / "m.npz")
    assert TextModel.load(tmp_path / "m.npz").config.target_oos_recall == 0.6
