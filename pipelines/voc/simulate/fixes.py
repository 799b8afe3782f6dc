"""Planted fixes: the ground truth that fix verification is measured against.

Layered on the planted incidents (voc.simulate.incidents) without changing
them. After an incident's acute spike, its root cause keeps causing extra
contacts at a lower, chronic rate (`CHRONIC_PER_HOUR` at scale 1, following
the daily rhythm) until a fix is released at a known time:

- an **effective** fix ends the chronic extra at the release;
- a **decoy** fix (released, announced, but it does not touch the cause)
  leaves it running to the end of the simulation.

A fix is planted only where both sides of the release can be observed for
`MIN_SIDE_H` hours (the verifier's minimum observation period), the before
side starting after the spike has died down. Nothing here reads the
verifier's rules: the release time and the effect are decided by the plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from voc.simulate.incidents import Incident
from voc.simulate.timeline import Timeline

CHRONIC_PER_HOUR = 0.6
SETTLE_H = 6  # the spike's tail before the before-window may start
MIN_SIDE_H = 24
RELEASE_AFTER_END_H = 30


@dataclass(frozen=True, slots=True)
class Fix:
    fix_id: str
    incident: Incident
    release_s: int
    effective: bool
    chronic_end_s: int  # release for an effective fix, the simulation's end for a decoy

    @property
    def scenario_id(self) -> str:
        return self.incident.scenario.id

    def chronic_active(self, t: int) -> bool:
        return self.incident.end_s <= t < self.chronic_end_s


def plan_fixes(
    rng: random.Random, incidents: list[Incident], timeline: Timeline, count: int
) -> list[Fix]:
    """Up to `count` fixes on the earliest incidents that leave room to observe
    both sides; when there are two or more, one of them is a decoy."""
    if count <= 0:
        return []
    eligible = []
    for inc in sorted(incidents, key=lambda i: i.start_s):
        release = inc.end_s + RELEASE_AFTER_END_H * 3600
        release += -release % 3600  # the next full hour
        if release - inc.end_s < (SETTLE_H + MIN_SIDE_H) * 3600:
            continue
        if timeline.end_s - release < MIN_SIDE_H * 3600:
            continue
        if any(f[0].scenario.id == inc.scenario.id for f in eligible):
            continue
        eligible.append((inc, release))
        if len(eligible) == count:
            break
    decoy = rng.randrange(len(eligible)) if len(eligible) >= 2 else -1
    fixes = []
    for n, (inc, release) in enumerate(eligible):
        effective = n != decoy
        fixes.append(
            Fix(
                fix_id=f"fix-{n + 1:03d}",
                incident=inc,
                release_s=release,
                effective=effective,
                chronic_end_s=release if effective else timeline.end_s,
            )
        )
    return fixes


def chronic_rates(fix: Fix, timeline: Timeline, scale: float) -> list[float]:
    """Extra contacts per hour of the simulation caused by the unfixed cause."""
    return [
        CHRONIC_PER_HOUR * scale * timeline.activity(h)
        if fix.chronic_active(timeline.hour_start(h))
        else 0.0
        for h in range(timeline.hours)
    ]
