"""The rate detector: a learned share of the denominator, two windows, episodes."""

from __future__ import annotations

import numpy as np

from voc.detect.rate import RateDetector, RateParams, poisson_tail_log10

P = RateParams(warmup_steps=288)


def feed(det: RateDetector, counts, traffic, key="k", start=0):
    opened = []
    for i, (c, d) in enumerate(zip(counts, traffic, strict=True)):
        det.add_denominator("d", int(d))
        if c:
            det.add(key, "d", int(c))
        opened += det.close_step(start + i)
    return opened


def test_poisson_tail_is_monotone_and_finite_far_out():
    # GIVEN an expected level of 0.5
    # THEN more events are more surprising, and a far tail is still a finite score
    scores = [poisson_tail_log10(c, 0.5) for c in (1, 2, 4, 8, 40)]
    assert scores == sorted(scores)
    assert all(np.isfinite(scores)) and scores[-1] > 30


def test_traffic_that_doubles_with_its_contacts_does_not_alert():
    # GIVEN contacts at 5% of traffic for a day, then a promotion day with traffic x3
    rng = np.random.default_rng(1)
    det = RateDetector(P)
    traffic = [20] * 400 + [60] * 300
    counts = rng.poisson([0.05 * t for t in traffic])
    # WHEN the detector runs
    opened = feed(det, counts, traffic)
    # THEN no alert: the expected level followed the traffic
    assert opened == []


def test_a_rise_against_flat_traffic_alerts_once_within_minutes():
    # GIVEN contacts at 5% of flat traffic, then 6x as many for two hours
    rng = np.random.default_rng(2)
    det = RateDetector(P)
    traffic = [20] * 600
    rate = [0.05 * 20] * 400 + [0.3 * 20] * 24 + [0.05 * 20] * 176
    opened = feed(det, rng.poisson(rate), traffic)
    # THEN one alert, within 30 minutes (6 steps) of the rise, with its evidence
    assert len(opened) == 1
    assert 400 <= opened[0].step_end_s // P.step_s - 1 < 406
    assert opened[0].count > 3 * opened[0].expected


def test_nothing_alerts_during_warm_up():
    det = RateDetector(P)
    opened = feed(det, [0] * 100 + [30] + [0] * 10, [20] * 111)
    assert opened == []


def test_a_noisy_but_stable_key_learns_its_dispersion():
    # GIVEN a key whose 30-minute rate wanders (gamma-Poisson), for five days
    rng = np.random.default_rng(3)
    det = RateDetector(P)
    steps = 288 * 5
    factor = np.repeat(rng.gamma(2.0, 0.5, size=steps // 6), 6)
    counts = rng.poisson(0.6 * factor)
    opened = feed(det, counts, [20] * steps)
    # THEN it learned a dispersion above 1, and raised at most one alert in five days
    assert det.keys["k"].dispersion > 1.3
    assert len(opened) <= 1


def test_a_small_sustained_rise_is_found_by_the_cusum_and_a_stable_week_is_not():
    # GIVEN a quiet key (1.2 events an hour) that rises 3x for four hours against
    # flat traffic: too few in any 2 h window for the window tests
    rare = 0.1  # events per 5-minute step, a share of 20 traffic events
    rate = [rare / 20] * 600 + [3 * rare / 20] * 48 + [rare / 20] * 300
    traffic = [20] * len(rate)
    rng = np.random.default_rng(7)
    counts = rng.poisson([r * t for r, t in zip(rate, traffic, strict=True)])
    windows_only = feed(RateDetector(P), counts, traffic)
    with_cusum = RateDetector(RateParams(warmup_steps=288, cusum_h=6.0, cusum_ratio=3.0))
    opened = feed(with_cusum, counts, traffic)
    # THEN the CUSUM opens one alert inside the rise, with its run as the evidence
    assert windows_only == []
    assert len(opened) == 1
    assert 600 < opened[0].step_end_s // P.step_s <= 648
    assert opened[0].count >= with_cusum.params.cusum_min_count
    assert opened[0].count > 2 * opened[0].expected
    # AND a stable week of the same key raises nothing
    stable = rng.poisson([rare] * 2016)
    quiet = RateDetector(RateParams(warmup_steps=288, cusum_h=6.0, cusum_ratio=3.0))
    assert feed(quiet, stable, [20] * 2016) == []


def test_a_rare_keys_break_in_the_making_is_not_learned_as_its_baseline():
    # GIVEN a rare key (about one event in 4 hours) that gets an event every
    # 15 minutes for two hours: never 4 in 30 minutes, 8 in the long window
    rng = np.random.default_rng(11)
    steps = 288 * 3
    counts = list(rng.poisson(0.02, size=steps))
    counts += [1 if i % 3 == 0 else 0 for i in range(24)] + [0] * 60
    det = RateDetector(P)
    opened = feed(det, counts, [20] * len(counts))
    # THEN the long window opens one alert inside the rise: the events that
    # made the rise surprising were not added to the key's expected level
    assert len(opened) == 1
    assert steps < opened[0].step_end_s // P.step_s <= steps + 24
    assert opened[0].count >= 6 and opened[0].expected < 1.0
