"""Rate detector: counts per key on short event-time steps, judged over two sliding
windows against an expected level that is a learned share of a denominator.

Pure and Beam-free. Shared by contact_spike, step_failure and social_surge.

Expected level. Each key's count is a share of its denominator (the traffic of
its business: app events in the same window), learned as a ratio of two
exponentially decayed sums (half-life `half_life_steps`):

    share = (decayed count + prior_count) / (decayed denominator + prior_denominator)
    expected(window) = share * denominator(window)

Hour of day, day of week, public holidays, make-up workdays and promotion days
move the traffic and the contacts together, so the share is flat across them
and the expected level follows the calendar without a calendar model; a
marketing push that lifts one business's orders lifts its denominator too. The
prior keeps a key never seen (or seen once) from having an expected level of
zero. Overdispersion (a noisy but stable key) is learned as the mean squared
Pearson residual of non-overlapping short windows, `dispersion` >= 1, and the
test is quasi-Poisson: count/dispersion against expected/dispersion.

Break. Multi-window, as SRE burn-rate alerts: the short window (fast, for
strong breaks) or the long window (slower, for weaker sustained ones) has

    count >= min_count, count >= min_ratio * expected, P(X >= count) <= 10**-z

Small sustained rises (a 2-3x rise for hours on a key with an event an hour)
never fill either window; a CUSUM does (Page's test, optional: `cusum_h`):
per step, the quasi-Poisson log-likelihood ratio of "the rate is cusum_ratio
x expected" against "as expected", n ln r - (r - 1) e, summed and restarted at
0; a break when it reaches `cusum_h` with >= `cusum_min_count` events in the
run. A run longer than `cusum_max_steps` (4 h, the longest break) restarts:
over longer runs it adds up the baseline's own drift, not a break.

An episode opens once (Episode) and ends after `rearm_steps` steps in which
neither window is even mildly high (P > 10**-z_clear). While a key is firing,
or while either window is already surprising (-log10 P >= z_suspect: a break
in the making that has not yet reached the bar), it learns its expected
count, not the observed one, and it learns any step only up to expected + 3
spreads, so a break never becomes its own baseline. On a rare key the cap
alone did not hold: a spread floored at one event let every event of a slow
rise in, and the expected level doubled under it before the long window could
reach the bar (DECISIONLOG "Breakpoints").
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import NamedTuple

from scipy.special import gammainc

from voc.detect.alerts import Episode


@dataclass(frozen=True)
class RateParams:
    step_s: int = 300
    short_steps: int = 6  # 30 min
    long_steps: int = 24  # 2 h
    half_life_steps: int = 576  # 2 days
    prior_count: float = 0.5
    prior_denominator: float = 50.0
    z_short: float = 7.0
    z_long: float = 7.0
    z_clear: float = 2.0
    # A step whose windows score this high is a break in the making: not learned.
    z_suspect: float = 3.5
    min_count: int = 4
    min_count_long: int = 6
    min_ratio: float = 2.0
    rearm_steps: int = 12
    warmup_steps: int = 288  # one day: no alert before the baseline has seen one
    # CUSUM for small sustained shifts: the log-likelihood ratio of "rate x
    # cusum_ratio" against the expected rate, summed over steps (reset at 0);
    # a break when it reaches cusum_h (natural log) holding >= cusum_min_count events.
    cusum_ratio: float = 2.0
    cusum_h: float = math.inf
    cusum_min_count: int = 6
    cusum_max_steps: int = 48  # a run longer than the longest break (4 h) is model drift: restart


class Verdict(NamedTuple):
    key: str
    step_end_s: int
    window_start_s: int
    count: int
    expected: float
    score: float


def poisson_tail_log10(count: float, expected: float) -> float:
    """-log10 P(X >= count) for X ~ Poisson(expected)."""
    if count <= 0:
        return 0.0
    expected = max(expected, 1e-9)
    p = float(gammainc(count, expected))
    if p > 0.0:
        return -math.log10(p)
    # Far tail: the leading term of the sum, e^-l l^c / c!.
    return -(count * math.log(expected) - expected - math.lgamma(count + 1)) / math.log(10)


@dataclass
class _Key:
    denominator: str
    counts: deque = field(default_factory=deque)  # (step index, count), last long_steps
    learned: float = 0.0  # decayed count sum
    learned_at: int = -1  # step index it is decayed to
    dispersion: float = 1.0
    episode: Episode = field(default_factory=Episode)
    cusum: float = 0.0  # log-likelihood ratio of the run since it was last 0
    cusum_from: int = 0  # the run's first step
    cusum_count: int = 0  # events in the run
    cusum_expected: float = 0.0  # expected events in the run


@dataclass
class RateDetector:
    params: RateParams = field(default_factory=RateParams)
    keys: dict[str, _Key] = field(default_factory=dict)
    # denominator -> step counts (step index, count) of the last long_steps, and its decayed sum
    denominators: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    denominator_sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    pending: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pending_denominator: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    active: set[str] = field(default_factory=set)  # keys with counts in the long window
    steps_seen: int = 0

    @property
    def decay(self) -> float:
        return 0.5 ** (1.0 / self.params.half_life_steps)

    def add(self, key: str, denominator: str, n: int = 1) -> None:
        """Count `n` events for `key` in the step being filled."""
        if key not in self.keys:
            self.keys[key] = _Key(denominator)
        self.pending[key] += n
        self.active.add(key)

    def add_denominator(self, denominator: str, n: int = 1) -> None:
        self.pending_denominator[denominator] += n

    def close_step(self, step: int) -> list[Verdict]:
        """Close step index `step` (its end is (step + 1) * step_s): judge every
        key with something in its long window, learn, return the alerts opened.

        The hot loop of detection (every active key, every 5-minute step):
        what depends only on the denominator is computed once per step, and a
        key with too few counts to ever break takes the short path."""
        p = self.params
        decay = self.decay
        powers: dict[int, float] = {}  # steps since learned -> decay ** steps
        short_from, long_from = step - p.short_steps, step - p.long_steps
        for name in set(self.denominators) | set(self.pending_denominator):
            ring = self.denominators[name]
            ring.append((step, self.pending_denominator.get(name, 0)))
            while ring and ring[0][0] <= long_from:
                ring.popleft()
        self.pending_denominator.clear()
        sums = self.denominator_sums
        # denominator -> (short window, long window, this step, its typical
        # step's floor, the share's divisor)
        per_denominator = {}
        for name, ring in self.denominators.items():
            total = sums.get(name, 0.0)
            per_denominator[name] = (
                sum(n for s, n in ring if s > short_from),
                sum(n for _, n in ring),
                ring[-1][1] if ring and ring[-1][0] == step else 0,
                # Contacts trail traffic (orders in flight still call at night): the
                # expected level never drops below a quarter of the key's average.
                (1 - decay) * total / 4,
                total + p.prior_denominator,
            )
        absent = (0, 0, 0, (1 - decay) * 0.0 / 4, 0.0 + p.prior_denominator)
        opened: list[Verdict] = []
        pending = self.pending
        min_count, min_count_long = p.min_count, p.min_count_long
        cusum_on = p.cusum_h < math.inf
        for key in sorted(self.active):
            k = self.keys[key]
            counts = k.counts
            n = pending.get(key, 0)
            if n:
                counts.append((step, n))
            while counts and counts[0][0] <= long_from:
                counts.popleft()
            if k.learned_at >= 0:
                gap = max(0, step - k.learned_at)
                power = powers.get(gap)
                if power is None:
                    power = powers[gap] = decay**gap
                learned = k.learned * power
            else:
                learned = 0
            d = per_denominator.get(k.denominator, absent)
            share = (learned + p.prior_count) / d[4]
            c_long = sum(n for _, n in counts)
            c_short = sum(n for s, n in counts if s > short_from)
            firing = k.episode.firing
            if cusum_on:
                self._cusum(k, step, n, share * max(d[2], d[3]))
            if (
                not firing
                and c_short < min_count
                and c_long < min_count_long
                and k.cusum < p.cusum_h
            ):
                # Too few to ever break: learn the step and move on (most keys, most
                # steps), unless a rare key's few events are already surprising.
                suspect = c_short >= 2 and (
                    poisson_tail_log10(c_short, share * max(d[0], d[3] * p.short_steps))
                    >= p.z_suspect
                )
                self._learn(k, step, share * d[2], learned, suspect)
                if not counts:
                    self.active.discard(key)
                    k.cusum, k.cusum_count, k.cusum_expected = 0.0, 0, 0.0
                continue
            verdict = self._judge(key, k, step, d, share, c_short, c_long, learned)
            if verdict is not None:
                opened.append(verdict)
            if not counts and not k.episode.firing:
                self.active.discard(key)
        pending.clear()
        for name, ring in self.denominators.items():
            sums[name] = sums[name] * decay + (ring[-1][1] if ring and ring[-1][0] == step else 0)
        self.steps_seen += 1
        return opened

    def _judge(
        self, key: str, k: _Key, step: int, denominator, share, c_short, c_long, learned
    ) -> Verdict | None:
        p = self.params
        d_short, d_long, d_step, typical, _ = denominator
        d_short = max(d_short, typical * p.short_steps)
        d_long = max(d_long, typical * p.long_steps)
        e_short, e_long = share * d_short, share * d_long
        phi = max(1.0, k.dispersion)
        s_short = poisson_tail_log10(c_short / phi, e_short / phi)
        s_long = poisson_tail_log10(c_long / phi, e_long / phi)
        warm = self.steps_seen >= p.warmup_steps
        by_cusum = False
        if k.episode.firing:
            breaking = s_short >= p.z_clear or s_long >= p.z_clear
        else:
            by_cusum = k.cusum >= p.cusum_h and k.cusum_count >= p.cusum_min_count
            breaking = warm and (
                by_cusum
                or (
                    c_short >= p.min_count
                    and c_short >= p.min_ratio * e_short
                    and s_short >= p.z_short
                )
                or (
                    c_long >= p.min_count_long
                    and c_long >= p.min_ratio * e_long
                    and s_long >= p.z_long
                )
            )
        step_end_s = (step + 1) * p.step_s
        opens = k.episode.update(breaking, step_end_s, p.rearm_steps)
        self._learn(k, step, share * d_step, learned, max(s_short, s_long) >= p.z_suspect)
        if (
            step % p.short_steps == p.short_steps - 1
            and e_short >= 1.0
            and not k.episode.firing
            and s_short < p.z_suspect
        ):
            # Noise is learned from windows that are not themselves a break
            # in the making, each capped at 3 spreads, so a break cannot pass
            # itself off as noise.
            resid = (c_short - e_short) ** 2 / e_short
            k.dispersion = 0.95 * k.dispersion + 0.05 * min(resid, 9.0)
        if not opens:
            return None
        window_opened = max(s_short, s_long) >= min(p.z_short, p.z_long)
        if by_cusum and not window_opened:
            # The sequential test saw it first: its run is the evidence.
            verdict = Verdict(
                key,
                step_end_s,
                k.cusum_from * p.step_s,
                k.cusum_count,
                k.cusum_expected,
                round(k.cusum / math.log(10), 3),
            )
            k.cusum, k.cusum_count, k.cusum_expected, k.cusum_from = 0.0, 0, 0.0, step + 1
            return verdict
        k.cusum, k.cusum_count, k.cusum_expected, k.cusum_from = 0.0, 0, 0.0, step + 1
        use_short = s_short >= s_long
        steps = p.short_steps if use_short else p.long_steps
        return Verdict(
            key,
            step_end_s,
            step_end_s - steps * p.step_s,
            c_short if use_short else c_long,
            e_short if use_short else e_long,
            round(max(s_short, s_long), 3),
        )

    def _cusum(self, k: _Key, step: int, n: int, expected_step: float) -> None:
        """One step of the CUSUM of "the rate rose by cusum_ratio" (quasi-Poisson:
        scaled by the key's dispersion); it restarts when it falls to 0."""
        p = self.params
        if k.episode.firing:
            return
        r = p.cusum_ratio
        llr = (n * math.log(r) - (r - 1) * expected_step) / max(1.0, k.dispersion)
        if k.cusum + llr <= 0 or step - k.cusum_from >= p.cusum_max_steps:
            k.cusum, k.cusum_count, k.cusum_expected, k.cusum_from = 0.0, 0, 0.0, step + 1
        else:
            if k.cusum == 0:
                k.cusum_from = step
            k.cusum += llr
            k.cusum_count += n
            k.cusum_expected += expected_step

    def _learn(
        self, k: _Key, step: int, expected_step: float, learned: float, suspect: bool = False
    ) -> None:
        """Add this step's count to the key's decayed sum (`learned`: the sum
        decayed to this step). A firing key, or one whose windows are already
        surprising (`suspect`: a break in the making), learns its expected count."""
        n = k.counts[-1][1] if k.counts and k.counts[-1][0] == step else 0
        if k.episode.firing or suspect:
            x = expected_step
        else:
            x = min(float(n), expected_step + 3 * math.sqrt(max(expected_step, 0.25)) + 1)
        k.learned = learned + x
        k.learned_at = step
