"""Simulated time: the daily rhythm of a Chinese business and Poisson arrivals.

Times are whole epoch seconds (UTC) inside the simulator and are formatted only
when a record is written.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

LOCAL_UTC_OFFSET_H = 8  # customers live in UTC+8; records store UTC

# Relative contact/order activity per local hour (0..23): quiet at night,
# busy 9:00-21:00 with a lunch dip. Normalised so that the mean is 1.
_RAW_LOCAL_PROFILE = (
    0.12,
    0.07,
    0.05,
    0.04,
    0.05,
    0.10,
    0.25,
    0.55,
    1.05,
    1.45,
    1.60,
    1.55,
    1.30,
    1.45,
    1.55,
    1.50,
    1.45,
    1.40,
    1.35,
    1.40,
    1.40,
    1.20,
    0.80,
    0.35,
)
_MEAN = sum(_RAW_LOCAL_PROFILE) / 24
LOCAL_PROFILE = tuple(v / _MEAN for v in _RAW_LOCAL_PROFILE)


@dataclass(frozen=True, slots=True)
class Timeline:
    start_s: int
    days: int
    # Per simulated hour, how much all volume is lifted (calendar, promotions,
    # a quiet night); empty = 1.0 everywhere.
    lift: tuple[float, ...] = ()

    @classmethod
    def of(cls, start: datetime, days: int) -> Timeline:
        return cls(int(start.timestamp()), days)

    @property
    def end_s(self) -> int:
        return self.start_s + self.days * 86400

    @property
    def hours(self) -> int:
        return self.days * 24

    def hour_start(self, hour: int) -> int:
        return self.start_s + hour * 3600

    def hour_of(self, t: int) -> int:
        return (t - self.start_s) // 3600

    def activity(self, hour: int) -> float:
        """Relative activity of simulated hour `hour` (mean 1 over a day)."""
        local_hour = ((self.start_s // 3600) + hour + LOCAL_UTC_OFFSET_H) % 24
        lift = self.lift[hour] if 0 <= hour < len(self.lift) else 1.0
        return LOCAL_PROFILE[local_hour] * lift

    def local_hour(self, t: int) -> int:
        return ((t // 3600) + LOCAL_UTC_OFFSET_H) % 24


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw from our own Random (numpy's would need its own seeding)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def arrivals(rng: random.Random, timeline: Timeline, rate_per_hour: list[float]) -> Iterator[int]:
    """Arrival times (epoch s) of a Poisson process with a piecewise-constant hourly rate."""
    for hour, lam in enumerate(rate_per_hour):
        base = timeline.hour_start(hour)
        times = sorted(base + rng.randrange(3600) for _ in range(poisson(rng, lam)))
        yield from times
