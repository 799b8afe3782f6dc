"""The cohort detector: journeys that stop moving after a step."""

from __future__ import annotations

import dataclasses
import math
import random

from voc.detect.cohort import CohortDetector, CohortParams

P = CohortParams(warmup_steps=100, max_age_s=4 * 3600, exit_max_age_s=10 * 3600)


def run(det: CohortDetector, hours: float, broken_from_h: float | None, seed=1, delay_x=6.0):
    """Thirty journeys an hour enter step A; each moves on to B after ~20 minutes;
    from `broken_from_h` on they take delay_x times longer."""
    rng = random.Random(seed)
    events = []
    for j in range(int(hours * 30)):
        t = int(j * 120 + rng.randrange(120))
        slow = broken_from_h is not None and t >= broken_from_h * 3600
        d = int(rng.expovariate(1 / 1200) * (delay_x if slow else 1)) + 30
        events.append((t, "A", f"o{j}"))
        events.append((t + d, "B", f"o{j}"))
    return feed(det, events, hours)


def feed(det: CohortDetector, events: list, hours: float, watch_exits=False) -> list:
    """(t, step name, journey) events to the detector in time order, a
    5-minute step at a time; the verdicts it opened."""
    events.sort()
    opened, i = [], 0
    for step in range(int(hours * 12)):
        end = (step + 1) * 300
        while i < len(events) and events[i][0] < end:
            t, name, j = events[i]
            det.observe(f"x|s|{name}", t, (j,), watch_exits=watch_exits)
            i += 1
        opened += det.close_step(step)
    return opened


def test_steady_journeys_raise_nothing():
    assert run(CohortDetector(P), 48, None) == []


def test_journeys_that_stop_moving_are_found_one_usual_delay_after():
    # GIVEN journeys through step A that, from hour 30, take 6x as long to move on
    opened = run(CohortDetector(P), 40, 30)
    # THEN one alert on step A, raised after the break and within 2 hours of it
    assert [v.key for v in opened] == ["x|s|A"]
    assert 30 * 3600 < opened[0].step_end_s <= 32 * 3600
    assert opened[0].moved < opened[0].expected_moved / 2


def _batches(det: CohortDetector, seed: int) -> list:
    """Journeys that move on together: each batch of four leaves step A after
    one shared delay (a van of parcels), never broken."""
    rng = random.Random(seed)
    events = []
    for b in range(48 * 8):
        t = b * 450 + rng.randrange(300)
        d = int(rng.expovariate(1 / 1200)) + 30
        for k in range(4):
            events.append((t + k, "A", f"o{b}-{k}"))
            events.append((t + d + k, "B", f"o{b}-{k}"))
    return feed(det, events, 48)


def test_journeys_that_move_in_batches_teach_the_step_its_noise():
    # GIVEN a step whose journeys move in batches, judged as the detector
    # does (learned noise) and as independent coin flips
    learned = CohortDetector(P)
    opened = _batches(learned, seed=4)
    flips = _batches(CohortDetector(dataclasses.replace(P, max_dispersion=1.0)), seed=4)
    # THEN the step learns a wider spread than coin flips and raises fewer false alarms
    assert max(learned.steps["x|s|A"].dispersion.values()) > 1.5
    assert len(opened) < len(flips)


def _depot(hours: float, stop: tuple[float, float] | None, seed=1) -> list:
    """Twenty orders an hour wait at step A about 3 h (lognormal) before they
    move on to B; during `stop` (hours) the operation that moves them stops,
    and what was due then moves when it restarts, over the next hour."""
    rng = random.Random(seed)
    events = []
    for j in range(int(hours * 20)):
        t = int(j * 180 + rng.randrange(180))
        moved = t + int(3 * 3600 * math.exp(rng.gauss(0, 0.5)))
        if stop is not None and stop[0] * 3600 <= moved < stop[1] * 3600:
            moved = int(stop[1] * 3600) + rng.randrange(3600)
        events.append((t, "A", f"o{j}"))
        events.append((moved, "B", f"o{j}"))
    return events


def test_a_stopped_operation_is_seen_as_its_missing_moves_within_the_hour():
    # GIVEN orders waiting at a step where they wait on us, the operation
    # that moves them on stopped from hour 40 to hour 42
    opened = feed(CohortDetector(P), _depot(48, (40, 42)), 48, watch_exits=True)
    # THEN one alert on step A (keyed by where its journeys came from), within
    # an hour of the stop, with the moves well short of what the ages expect
    assert [v.key for v in opened] == ["x|s|A<-"]
    assert 40 * 3600 < opened[0].step_end_s <= 41 * 3600
    assert opened[0].moved <= opened[0].expected_moved / 2


def test_a_steady_waiting_step_raises_nothing():
    for seed in (1, 2, 3):
        assert feed(CohortDetector(P), _depot(48, None, seed), 48, watch_exits=True) == []


def test_a_step_is_judged_once_its_durations_are_known_not_a_day_and_a_half_later():
    # GIVEN a 3-hour step first seen at hour 0, its operation stopped from hour
    # 26 to hour 28: 3 x its 90th-percentile duration (~17 h) has passed, the
    # 36 h a step with long durations waits for has not
    day = dataclasses.replace(P, exit_max_age_s=24 * 3600)
    opened = feed(CohortDetector(day), _depot(32, (26, 28)), 32, watch_exits=True)
    # THEN the stop is seen within an hour and a half
    assert [v.key for v in opened] == ["x|s|A<-"]
    assert 26 * 3600 < opened[0].step_end_s <= 27.5 * 3600


def test_a_thin_step_is_judged_over_a_longer_cohort():
    # GIVEN a step with 5 entrants an hour (under the hour's 8) whose journeys,
    # from hour 30, mostly stop moving on
    rng = random.Random(4)
    events = []
    for j in range(40 * 5):
        t = j * 720 + rng.randrange(720)
        events.append((t, "A", f"o{j}"))
        if t < 30 * 3600 or t >= 34 * 3600 or rng.random() < 0.1:
            events.append((t + int(rng.expovariate(1 / 1200)) + 30, "B", f"o{j}"))
    # WHEN judged over the hour only, and over 3 hours beside it
    hour = feed(CohortDetector(dataclasses.replace(P, long_cohort_steps=0)), list(events), 40)
    longer = feed(CohortDetector(dataclasses.replace(P, long_cohort_steps=36)), list(events), 40)
    # THEN only the 3-hour cohort finds it, within the break's hours
    assert hour == []
    assert [v.key for v in longer] == ["x|s|A"]
    assert 30 * 3600 < longer[0].step_end_s <= 35 * 3600
