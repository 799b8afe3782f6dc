from __future__ import annotations

import numpy as np

from voc.tagging.prior import BETA, em_prior, log_prior_shift


def test_em_recovers_a_skewed_mix_from_unlabelled_scores():
    # GIVEN 300 texts of scenario 0 and 100 of scenario 1, each a little more
    # similar to its own scenario, and a third scenario nobody writes about
    rng = np.random.default_rng(0)
    own = rng.normal(0.5, 0.05, 400)
    other = own - rng.normal(0.03, 0.05, 400)
    truth = np.r_[np.zeros(300, int), np.ones(100, int)]
    scores = np.column_stack(
        [np.where(truth == 0, own, other), np.where(truth == 1, own, other), other - 0.1]
    )
    prior = em_prior(scores)
    # THEN the prior follows the mix, not the uniform third each
    assert prior[0] > 0.6 and prior[1] < 0.35 and prior[2] < 0.05
    assert abs(prior.sum() - 1) < 1e-9


def test_the_shift_is_a_half_uniform_log_prior_in_score_units():
    # GIVEN the shipped estimate
    ids = ["ecommerce.after_sale.quality_defect", "no.such.scenario"]
    shift = log_prior_shift(ids)
    # THEN a scenario customers often write about is lifted, an unknown one lowered,
    # and no shift is larger than log(n) / BETA
    assert shift[0] > 0 > shift[1]
    assert np.all(np.abs(shift) <= np.log(len(ids)) / BETA + 1e-6)
