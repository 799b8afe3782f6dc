"""Planted incidents: the ground truth a breakpoint detector is measured against."""

from __future__ import annotations

import random
from dataclasses import dataclass

from voc.catalog import Catalog, Scenario
from voc.simulate.timeline import LOCAL_UTC_OFFSET_H, Timeline


@dataclass(frozen=True, slots=True)
class Incident:
    """A journey step breaking: one scenario's contact rate × magnitude for a while."""

    incident_id: str
    scenario: Scenario
    start_s: int
    end_s: int
    magnitude: float  # contact-rate multiplier on the scenario

    def active(self, t: int) -> bool:
        return self.start_s <= t < self.end_s


def default_incident_count(days: int) -> int:
    """One per simulated day after the first (day 1 is the detectors' warm-up)."""
    return max(0, days - 1)


def plan_incidents(
    rng: random.Random, catalog: Catalog, timeline: Timeline, count: int
) -> list[Incident]:
    """Spread `count` incidents over days 2..N, rotating through the domains.

    Each starts in local business hours (when a spike is visible against the
    baseline), lasts 2-8 hours, ends inside the simulated range and never
    overlaps another incident on the same scenario.
    """
    if count <= 0 or timeline.days < 2:
        return []
    domains = [d for d in catalog.domains if catalog.scenarios_of(d)]
    rng.shuffle(domains)
    # A journey step that breaks shows in the app: incidents are planted on
    # scenarios with an app-event signal (DECISIONLOG "Simulated incidents").
    pools = {
        d: [s for s in catalog.scenarios_of(d) if s.app_event_signals]
        or list(catalog.scenarios_of(d))
        for d in domains
    }
    for pool in pools.values():
        rng.shuffle(pool)
    usable_s = timeline.end_s - (timeline.start_s + 86400)
    incidents: list[Incident] = []
    for i in range(count):
        domain = domains[i % len(domains)]
        pool = pools[domain]
        scenario = pool[(i // len(domains)) % len(pool)]
        # Slot i covers an equal share of days 2..N; start inside it at 08-17 local time.
        slot_start = timeline.start_s + 86400 + usable_s * i // count
        slot_len = max(3600, usable_s // count)
        for _attempt in range(20):
            day_s = slot_start + rng.randrange(slot_len)
            day_s -= (day_s + LOCAL_UTC_OFFSET_H * 3600) % 86400  # local midnight
            start_s = day_s + rng.randint(8 * 3600, 17 * 3600) + 60 * rng.randrange(60)
            duration_s = rng.randint(2 * 3600, 8 * 3600)
            end_s = min(start_s + duration_s, timeline.end_s)
            if start_s < timeline.start_s + 86400 or end_s - start_s < 2 * 3600:
                continue  # fell on day 1 or too close to the end: draw again
            clash = any(
                o.scenario.id == scenario.id and start_s < o.end_s and o.start_s < end_s
                for o in incidents
            )
            if not clash:
                break
        else:
            continue
        magnitude = round(rng.uniform(5.0, 12.0), 1)
        incidents.append(Incident(f"inc-{i + 1:03d}", scenario, start_s, end_s, magnitude))
    return incidents
