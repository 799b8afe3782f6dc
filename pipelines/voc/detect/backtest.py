"""Backtest: run a count detector causally over anyone's history, a CSV of
`timestamp,value` (one count per fixed step). Pure and Beam-free.

A bare series has no denominator, so its expected level comes from time
itself: a seasonal baseline per (kind of day, hour of day), where the kind of
day comes from the business calendar (voc.calendar): a workday (make-up
workdays included), a day off (weekends and public holidays) or a promotion
day (618, 双11, 双12). Each bucket keeps an exponentially weighted mean and
variance of its steps; a bucket seen fewer than `min_bucket_obs` times borrows
the hour-of-day mean across kinds of day, scaled by how that kind of day has
compared with it so far. The test is the rate detector's (voc.detect.rate):
quasi-Poisson tail with the bucket's dispersion, multi-step episodes, re-arm
after a quiet spell, and no learning while firing. Step t is judged with what
was learned from steps before t only, then learned: the run is causal.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from voc.detect.alerts import Episode
from voc.detect.rate import poisson_tail_log10

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class BacktestError(ValueError):
    """The input cannot be backtested (message says why and where)."""


@dataclass(frozen=True)
class BacktestParams:
    alpha: float = 0.1
    z: float = 6.0
    z_clear: float = 2.0
    min_ratio: float = 1.5
    min_excess: float = 3.0
    min_bucket_obs: int = 3
    warmup_days: int = 7
    rearm_s: int = 3 * 3600


class Point(NamedTuple):
    at: datetime
    value: float


class BacktestAlert(NamedTuple):
    at: datetime
    value: float
    expected: float
    score: float


def day_kind(day) -> str:
    from voc import calendar

    if calendar.promotion(day):
        return "promotion"
    try:
        return "work" if calendar.is_workday(day) else "off"
    except NotImplementedError:
        return "work" if day.weekday() < 5 else "off"


def read_series(path: Path) -> tuple[list[Point], timedelta]:
    """Rows of `timestamp,value`, in increasing time, and the inferred step."""
    points: list[Point] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"timestamp", "value"} - set(reader.fieldnames or ())
        if missing:
            raise BacktestError(
                f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                f"expected a header `timestamp,value`, found {reader.fieldnames}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                at = datetime.strptime(row["timestamp"].strip(), TIME_FORMAT)
            except (ValueError, AttributeError):
                raise BacktestError(
                    f"{path}:{line}: timestamp {row['timestamp']!r} is not YYYY-MM-DD HH:MM:SS"
                ) from None
            try:
                value = float(row["value"])
            except (TypeError, ValueError):
                raise BacktestError(
                    f"{path}:{line}: value {row['value']!r} is not a number"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise BacktestError(f"{path}:{line}: value {value} is not a count")
            if points and at <= points[-1].at:
                raise BacktestError(f"{path}:{line}: {at} is not after {points[-1].at}")
            points.append(Point(at, value))
    if len(points) < 2:
        raise BacktestError(f"{path}: need at least two rows to infer the step")
    gaps = Counter(b.at - a.at for a, b in zip(points, points[1:], strict=False))
    step = gaps.most_common(1)[0][0]
    return points, step


@dataclass
class _Bucket:
    n: int = 0
    mean: float = 0.0
    var: float = 0.0

    def learn(self, x: float, alpha: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            d = x - self.mean
            a = max(alpha, 1.0 / (self.n + 1))
            self.mean += a * d
            self.var = (1 - a) * (self.var + a * d * d)
        self.n += 1


@dataclass
class SeasonalDetector:
    params: BacktestParams = field(default_factory=BacktestParams)
    buckets: dict[tuple[str, int], _Bucket] = field(default_factory=dict)
    hours: dict[int, _Bucket] = field(default_factory=dict)
    kinds: dict[str, _Bucket] = field(default_factory=dict)  # value / hour-of-day mean
    episode: Episode = field(default_factory=Episode)
    first: datetime | None = None

    def expected(self, at: datetime) -> tuple[float, float] | None:
        kind, hour = day_kind(at.date()), at.hour
        b = self.buckets.get((kind, hour))
        if b is not None and b.n >= self.params.min_bucket_obs:
            return b.mean, b.var
        h = self.hours.get(hour)
        if h is None or h.n == 0:
            return None
        ratio = self.kinds.get(kind)
        factor = ratio.mean if ratio is not None and ratio.n else 1.0
        return h.mean * factor, h.var * factor * factor

    def step(self, p: Point, rearm_steps: int) -> BacktestAlert | None:
        par = self.params
        if self.first is None:
            self.first = p.at
        base = self.expected(p.at)
        alert = None
        if base is not None:
            mean, var = base
            e = max(mean, 1e-6)
            phi = max(1.0, var / max(e, 1.0))
            score = poisson_tail_log10(p.value / phi, e / phi)
            warm = p.at - self.first >= timedelta(days=par.warmup_days)
            if self.episode.firing:
                breaking = score >= par.z_clear and p.value > e
            else:
                breaking = (
                    warm
                    and score >= par.z
                    and p.value >= par.min_ratio * e
                    and p.value - e >= par.min_excess
                )
            if self.episode.update(breaking, int(p.at.timestamp()), rearm_steps):
                alert = BacktestAlert(p.at, p.value, round(e, 4), round(score, 3))
            if not self.episode.firing:
                cap = e + 3 * math.sqrt(max(var, e, 1.0))
                self._learn(p.at, min(p.value, cap))
        else:
            self._learn(p.at, p.value)
        return alert

    def _learn(self, at: datetime, x: float) -> None:
        kind, hour = day_kind(at.date()), at.hour
        h = self.hours.setdefault(hour, _Bucket())
        if h.n and h.mean > 0:
            self.kinds.setdefault(kind, _Bucket()).learn(x / h.mean, self.params.alpha)
        h.learn(x, self.params.alpha)
        self.buckets.setdefault((kind, hour), _Bucket()).learn(x, self.params.alpha)


def backtest(
    points: list[Point], step: timedelta, params: BacktestParams | None = None
) -> list[BacktestAlert]:
    """Alerts, each raised at the step that completed its evidence, using only
    the rows up to it."""
    det = SeasonalDetector(params or BacktestParams())
    rearm_steps = max(1, int(det.params.rearm_s // max(step.total_seconds(), 1)))
    out = []
    for p in points:
        a = det.step(p, rearm_steps)
        if a is not None:
            out.append(a)
    return out


def write_alerts(path: Path, alerts: list[BacktestAlert]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value", "expected", "score"])
        for a in alerts:
            value = int(a.value) if float(a.value).is_integer() else a.value
            w.writerow([a.at.strftime(TIME_FORMAT), value, a.expected, a.score])
