"""The cohort detector: journeys that stop moving after a step."""

from __future__ import annotations

import dataclasses
import random

from voc.detect.cohort import CohortDetector, CohortParams

P = CohortParams(warmup_steps=100, max_age_s=4 * 3600)


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


def feed(det: CohortDetector, events: list, hours: float) -> list:
    """(t, step name, journey) events to the detector in time order, a
    5-minute step at a time; the verdicts it opened."""
    events.sort()
    opened, i = [], 0
    for step in range(int(hours * 12)):
        end = (step + 1) * 300
        while i < len(events) and events[i][0] < end:
            t, name, j = events[i]
            det.observe(f"x|s|{name}", t, (j,))
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
