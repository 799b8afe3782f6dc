from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voc.detect.spike import SpikeParams, SpikeState, WindowCount, observe

P = SpikeParams(window_s=60, warmup_windows=5, min_count=5, rearm_windows=2)


def feed(counts, p=P, state=None):
    state = state or SpikeState()
    verdicts = []
    for i, c in enumerate(counts):
        verdicts += observe(state, WindowCount(i * p.window_s, c), p)
    return state, verdicts


def test_a_spike_after_warmup_opens_one_episode():
    _, v = feed([1, 0, 2, 1, 1, 1, 15, 18, 20, 1])
    opened = [x for x in v if x.opens_episode]
    assert [x.window_start_s for x in opened] == [6 * 60]
    assert opened[0].count == 15
    assert opened[0].baseline_mean < 2


def test_no_alert_during_warmup():
    _, v = feed([1, 30, 1, 1])
    assert not any(x.opens_episode for x in v)


def test_rearms_after_quiet_windows_and_alerts_again():
    # The spike keeps its 3-window run above the bar for two more windows,
    # then two quiet windows re-arm the key.
    _, v = feed([1, 1, 1, 1, 1, 1, 20, 1, 1, 1, 1, 20])
    assert [x.window_start_s // 60 for x in v if x.opens_episode] == [6, 11]


def test_a_sustained_rise_no_single_window_shows_alerts():
    # GIVEN a rare key, then four hours of 4 contacts each (below min_count 5)
    _, v = feed([0] * 10 + [4, 4, 4, 4])
    # THEN the 3-window sum (12 >= 10) opens one episode
    assert [x.window_start_s // 60 for x in v if x.opens_episode] == [12]


def test_a_ramp_does_not_lift_its_own_bar():
    # GIVEN a quiet key, then an incident ramping up over five windows
    state, v = feed([1, 0, 1, 0, 1, 0, 2, 3, 4, 6, 8])
    # THEN it alerts, and the baseline learned little of the ramp
    assert any(x.opens_episode for x in v)
    assert state.mean < 2


def test_baseline_does_not_learn_from_the_incident():
    state, _ = feed([1, 1, 1, 1, 1, 1, 50, 50, 50])
    assert state.mean < 1.5
    assert state.firing


def test_skipped_windows_count_as_zero():
    state = SpikeState()
    observe(state, WindowCount(0, 3), P)
    verdicts = observe(state, WindowCount(4 * 60, 3), P)
    assert [v.count for v in verdicts] == [0, 0, 0, 3]
    assert state.windows_seen == 5


def test_windows_out_of_order_are_refused():
    state = SpikeState()
    observe(state, WindowCount(120, 1), P)
    with pytest.raises(ValueError, match="event-time order"):
        observe(state, WindowCount(60, 1), P)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=200))
def test_steady_low_counts_never_alert(counts):
    # Below min_count, and three windows below min_run_count, nothing breaks.
    _, v = feed(counts)
    assert not any(x.opens_episode for x in v)


def test_a_key_first_seen_in_a_burst_is_judged_against_the_quiet_before_it():
    # GIVEN a stream watched since t=0 and a scenario whose first contacts
    # arrive, 30 windows later, as a burst
    state = SpikeState()
    # WHEN the burst is observed with the stream's origin
    verdicts = observe(state, WindowCount(30 * 60, 9), P, origin_s=0)
    # THEN the 30 quiet windows are its history and the burst alerts
    assert verdicts[-1].opens_episode
    assert len(verdicts) == 31


def test_without_an_origin_a_new_key_warms_up_first():
    verdicts = observe(SpikeState(), WindowCount(30 * 60, 9), P)
    assert not any(v.opens_episode for v in verdicts)
