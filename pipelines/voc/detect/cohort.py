"""Cohort detector: journeys that stop moving after a step. Pure and Beam-free.

Shared by funnel_drop (customers leave between consecutive steps before the
order is placed and paid) and stuck_journeys (orders and waybills wait past
their step's usual time after it). Both are the same measurement: of the
journeys whose latest event was step A at time t, how many had a next event
by t + age. The detector learns, per key (domain|stage|A), the distribution of
"time to the next event" from journeys old enough to have a known outcome
(`max_age_s`), and checks the cohort that entered A in the last
`cohort_steps` (and, if set, over `long_cohort_steps` beside it, for steps
too thin to fill an hour's cohort) at the ages where, normally, `quantiles` of
them have moved on. A cohort breaks when

    entries >= min_entries, moved <= (1 - min_drop) * expected moved,
    P(Binomial(entries, F(age)) <= moved) <= 10**-z

so a strong break is seen one `age` after it starts (minutes for a checkout
step, hours for a pickup), never before the journeys could have moved.

A journey is an order when the event names one, else the app session: an
event moves every journey it belongs to (its order and its session).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.special import betainc, gammaincc

from voc.detect.alerts import Episode


@dataclass(frozen=True)
class CohortParams:
    step_s: int = 300
    cohort_steps: int = 12  # journeys that entered A in the last hour form the cohort
    # A longer cohort beside it (0: none) for steps too thin for an hour's
    # (fewer than min_entries entrants an hour): 3 hours finds every visible
    # funnel drop on seeds 1-10 and 11-20, at no false alert (DECISIONLOG
    # "Breakpoints", funnel_drop misses).
    long_cohort_steps: int = 36
    quantiles: tuple[float, ...] = (0.5, 0.8)
    max_age_s: int = 12 * 3600
    sample: int = 400  # matured outcomes kept per key
    min_sample: int = 60
    min_entries: int = 8
    min_drop: float = 0.5
    z: float = 5.0
    max_dispersion: float = 4.0  # learned cohort noise is capped here (1.0: coin flips)
    z_clear: float = 2.0
    rearm_steps: int = 12
    warmup_steps: int = 288
    # The pile-up test of steps where orders wait on us (`watch_exits`): the
    # journeys in flight at the step, each at its age, should have moved on at
    # the rate the learned durations say; a break when, over a window, the
    # moves fall to <= exit_max_ratio of that with -log10 P <= exit_z.
    exit_windows: tuple[int, ...] = (6, 24)  # steps: 30 min, 2 h
    # Orders wait on us for days at some steps (a parcel's first hub, an
    # installation): their durations are learned, and their journeys watched,
    # up to this age (the funnel's cohorts: `max_age_s`).
    exit_max_age_s: int = 24 * 3600
    exit_z: float = 5.0
    exit_max_ratio: float = 0.5
    exit_min_expected: float = 4.0
    # A step's pile-up is judged once it has been watched this many times its
    # learned 90th-percentile duration (or a horizon and a half, if sooner).
    exit_seasoned_x: float = 3.0


class CohortVerdict(NamedTuple):
    key: str
    step_end_s: int
    window_start_s: int
    entries: int
    moved: int
    expected_moved: float
    age_s: int
    score: float


@dataclass
class _Entry:
    t_s: int
    moved_s: int | None = None
    name: str = ""  # the step's event name: the state a journey's next event leaves
    waits_at: _Step | None = None  # a step whose durations are learned as journeys move
    watched_at: _Step | None = None  # the step whose pile-up counts it while in flight
    wait_no: int = -1  # its running number in that step's in-flight lists


@dataclass
class _Step:
    entries: list = field(default_factory=list)  # _Entry, oldest first, from `head` on
    times: list = field(default_factory=list)  # their t_s, for bisect
    head: int = 0
    outcomes: deque = field(default_factory=deque)  # matured delays s (inf: never moved)
    sorted_outcomes: list = field(default_factory=list)
    outcomes_array: np.ndarray | None = None  # sorted_outcomes as an array, until it changes
    episode: Episode = field(default_factory=Episode)
    dispersion: dict = field(default_factory=dict)  # quantile -> learned overdispersion
    watch_exits: bool = False  # a step where orders wait on us: test its pile-up
    # Its entries in flight (entered within `exit_max_age_s`), oldest first, as
    # plain lists the pile-up test reads in one vectorised pass: the entry, its
    # entry time and when it moved on (inf: not yet); `wait_base` is the running
    # number of the first (entries leave from the front only).
    waiting: list = field(default_factory=list)
    wait_t: list = field(default_factory=list)
    wait_moved: list = field(default_factory=list)
    wait_base: int = 0
    first_s: int | None = None  # when the step was first seen
    exit_dispersion: dict = field(default_factory=dict)  # window steps -> overdispersion


@dataclass
class CohortDetector:
    params: CohortParams = field(default_factory=CohortParams)
    steps: dict[str, _Step] = field(default_factory=dict)
    latest: dict[str, _Entry] = field(default_factory=dict)  # journey -> its latest entry
    latest_seen: deque = field(default_factory=deque)  # (t_s, journey) for pruning
    steps_seen: int = 0

    def observe(
        self, key: str, t_s: int, journeys: tuple[str, ...], watch_exits: bool = False
    ) -> None:
        """An event of step `key` at `t_s` for the given journeys (order, session);
        the first journey is the one that waits after it. Feed in time order.
        `watch_exits`: the step is one where orders wait on us, whose pile-up is
        tested as well (`_exits`)."""
        came_from = self.latest.get(journeys[0]) if journeys else None
        for j in journeys:
            prev = self.latest.get(j)
            if prev is not None and prev.moved_s is None and t_s >= prev.t_s:
                prev.moved_s = t_s
                if prev.watched_at is not None:
                    w = prev.watched_at
                    w.wait_moved[prev.wait_no - w.wait_base] = t_s
                if prev.waits_at is not None and t_s - prev.t_s <= self.params.exit_max_age_s:
                    # Where orders wait, a duration is learned when the journey
                    # moves, not a horizon later: a 90-minute step knows its
                    # durations within hours of the detector starting.
                    self._learn(prev.waits_at, t_s - prev.t_s)
        if not journeys or not key:
            return
        name = key.rsplit("|", 1)[-1]
        if watch_exits:
            # A step where orders wait is keyed by the step it came from too:
            # a parcel arriving at its first hub waits hours, one arriving at
            # its last moves on within minutes; one key for both would make a
            # burst of first arrivals (a backlog released) look like a stall.
            key = f"{key}<{came_from.name if came_from is not None else '-'}"
        entry = _Entry(t_s, name=name)
        step = self.steps.get(key)
        if step is None:
            step = self.steps[key] = _Step(watch_exits=watch_exits)
        if step.times and t_s < step.times[-1]:
            t_s = entry.t_s = step.times[-1]  # a little disorder: keep the list sorted
        step.entries.append(entry)
        step.times.append(t_s)
        if step.watch_exits:
            entry.waits_at = entry.watched_at = step
            entry.wait_no = step.wait_base + len(step.waiting)
            step.waiting.append(entry)
            step.wait_t.append(t_s)
            step.wait_moved.append(math.inf)
            if step.first_s is None:
                step.first_s = t_s
        for j in journeys:
            self.latest[j] = entry
            self.latest_seen.append((t_s, j))

    def close_step(self, step_index: int) -> list[CohortVerdict]:
        p = self.params
        now = (step_index + 1) * p.step_s
        opened = []
        for key, st in self.steps.items():
            self._mature(st, now)
            verdict = self._judge(key, st, now)
            if verdict is not None:
                opened.append(verdict)
        horizon = now - max(p.max_age_s, p.exit_max_age_s)
        while self.latest_seen and self.latest_seen[0][0] < horizon:
            _, j = self.latest_seen.popleft()
            e = self.latest.get(j)
            if e is not None and e.t_s < horizon:
                del self.latest[j]
        self.steps_seen += 1
        return opened

    def _mature(self, st: _Step, now: int) -> None:
        p = self.params
        max_age = p.exit_max_age_s if st.watch_exits else p.max_age_s
        while st.head < len(st.entries) and st.times[st.head] <= now - max_age:
            e = st.entries[st.head]
            st.head += 1
            if e.waits_at is not None:
                e.waits_at = None  # out of view: no longer refers back to its step
                if e.moved_s is None or e.moved_s - e.t_s > max_age:
                    self._learn(st, math.inf)  # moved ones were learned as they moved
                continue
            self._learn(st, math.inf if e.moved_s is None else e.moved_s - e.t_s)
        if st.head > 512:
            del st.entries[: st.head]
            del st.times[: st.head]
            st.head = 0

    def _learn(self, st: _Step, delay: float) -> None:
        st.outcomes.append(delay)
        bisect.insort(st.sorted_outcomes, delay)
        st.outcomes_array = None
        if len(st.outcomes) > self.params.sample:
            old = st.outcomes.popleft()
            del st.sorted_outcomes[bisect.bisect_left(st.sorted_outcomes, old)]

    def _judge(self, key: str, st: _Step, now: int) -> CohortVerdict | None:
        p = self.params
        outcomes = st.sorted_outcomes
        if len(outcomes) < p.min_sample or (
            not st.episode.firing and len(st.entries) - st.head < p.min_entries
        ):
            return None
        n_all = len(outcomes)
        verdicts = []
        # Where orders wait on us the pile-up test sees a stopped operation as
        # soon as its moves are missing; the cohorts' ages (one usual duration,
        # days at some steps) would see it only after the break has ended.
        windows = (p.cohort_steps,) + ((p.long_cohort_steps,) if p.long_cohort_steps else ())
        quantiles = () if st.watch_exits else p.quantiles
        for w, q in ((w, q) for w in windows for q in quantiles):
            window_s = w * p.step_s
            # Cohorts a whole window apart do not overlap: the noise is learned from those.
            learn = (now // p.step_s) % w == 0
            spread = q if w == p.cohort_steps else (q, w)
            age = outcomes[min(n_all - 1, int(q * n_all))]
            if math.isinf(age):
                continue  # most journeys take longer than we watch: not judged here
            age = max(p.step_s, int(age))
            f = min(bisect.bisect_right(outcomes, age) / n_all, 1 - 1e-9)
            lo, hi = now - age - window_s, now - age
            a, b = (
                bisect.bisect_left(st.times, lo, st.head),
                bisect.bisect_left(st.times, hi, st.head),
            )
            n = b - a
            if n == 0 or (n < p.min_entries and not st.episode.firing):
                # Too few to break or to learn the noise from: not judged
                # (a firing episode still hears from every cohort).
                continue
            moved = 0
            for e in st.entries[a:b]:
                if e.moved_s is not None and e.moved_s - e.t_s <= age:
                    moved += 1
            phi = min(max(1.0, st.dispersion.get(spread, 1.0)), p.max_dispersion)
            score = _binomial_low_log10(moved / phi, n / phi, f)
            verdicts.append(CohortVerdict(key, now, lo, n, moved, n * f, age, round(score, 3)))
            if (
                learn
                and not st.episode.firing
                and score < p.z / 2
                and n >= p.min_entries
                and 0 < f < 1
            ):
                # Journeys that move together (a truck of parcels, a hub's
                # shift) make cohorts noisier than independent coin flips: the
                # spread is learned from cohorts a window apart that are not a
                # break in the making, each counted up to 2 spreads, and the
                # test is quasi-binomial (moved and entered scaled down by it).
                resid = (moved - n * f) ** 2 / (n * f * (1 - f))
                st.dispersion[spread] = 0.95 * st.dispersion.get(spread, 1.0) + 0.05 * min(
                    resid, 4.0
                )
        exits = self._exits(key, st, now) if st.watch_exits else []
        if st.episode.firing:
            breaking = any(
                v.score >= p.z_clear and v.moved < v.expected_moved for v in verdicts + exits
            )
            st.episode.update(breaking, now, p.rearm_steps)
            return None
        hits = [
            v
            for v in verdicts
            if v.entries >= p.min_entries
            and v.moved <= (1 - p.min_drop) * v.expected_moved
            and v.score >= p.z
        ]
        # Durations learned as journeys move are the short ones first (the long
        # ones have not finished): a step is judged once it has been watched
        # `exit_seasoned_x` times its learned 90th-percentile duration, when
        # durations longer than what it has seen are rare, and at the latest a
        # horizon and a half after it was first seen. A step whose durations are
        # long learns a 90th percentile that grows with the time watched, so it
        # waits for the horizon; one whose journeys move within the hour is
        # judged within hours, not a day and a half.
        seasoned = st.first_s is not None and now - st.first_s >= min(
            1.5 * p.exit_max_age_s, p.exit_seasoned_x * _finite_quantile(outcomes, 0.9)
        )
        hits += [
            v
            for v in exits
            if seasoned
            and v.expected_moved >= p.exit_min_expected
            and v.moved <= p.exit_max_ratio * v.expected_moved
            and v.score >= p.exit_z
        ]
        breaking = bool(hits) and self.steps_seen >= p.warmup_steps
        if st.episode.update(breaking, now, p.rearm_steps):
            return max(hits, key=lambda v: v.score)
        return None

    def _exits(self, key: str, st: _Step, now: int) -> list[CohortVerdict]:
        """The pile-up at a step, counted in event time against its learned
        durations: over each window, the moves on of the journeys in flight
        (entered within `exit_max_age_s`, not moved before the window) against what
        their ages say, sum over journeys of P(moves in the window | waited
        until its start) = (F(age at end) - F(age at start)) / (1 - F(age at
        start)). An operation that stops (a depot, an installer team) shows as
        soon as the moves it should have made are missing, whatever the
        journeys' entry times: minutes on a busy step, not one usual duration
        later. Quasi-Poisson: the spread is learned from windows a window apart
        that are not a break in the making."""
        p = self.params
        n_all = len(st.sorted_outcomes)
        gone = bisect.bisect_left(st.wait_t, now - p.exit_max_age_s)
        if gone:
            for e in st.waiting[:gone]:
                e.watched_at = None
            del st.waiting[:gone], st.wait_t[:gone], st.wait_moved[:gone]
            st.wait_base += gone
        widest = max(p.exit_windows) * p.step_s
        expected = dict.fromkeys(p.exit_windows, 0.0)
        moved = dict.fromkeys(p.exit_windows, 0)
        in_flight = dict.fromkeys(p.exit_windows, 0)
        if st.waiting:
            # One pass over the journeys in flight per window, in numpy: the
            # terms are the same floats, summed in the same order (a cumulative
            # sum is sequential), so the verdicts are those of a plain loop.
            if st.outcomes_array is None:
                st.outcomes_array = np.asarray(st.sorted_outcomes, dtype=np.float64)
            outcomes = st.outcomes_array
            t = np.asarray(st.wait_t, dtype=np.int64)
            moved_s = np.asarray(st.wait_moved, dtype=np.float64)
            live = moved_s >= now - widest
            if len(st.waiting) > 64 and 2 * np.count_nonzero(live) < len(st.waiting):
                # Most moved on before every window: drop them (renumbered).
                idx = np.flatnonzero(live)
                st.waiting = [st.waiting[i] for i in idx]
                for n, e in enumerate(st.waiting):
                    e.wait_no = n
                st.wait_t = [st.wait_t[i] for i in idx]
                st.wait_moved = [st.wait_moved[i] for i in idx]
                st.wait_base = 0
                t, moved_s = t[idx], moved_s[idx]
            f1 = np.searchsorted(outcomes, now - t, side="right") / n_all
            for w in p.exit_windows:
                start = now - w * p.step_s
                # Journeys that moved before the window are not in flight in it.
                f0 = np.searchsorted(outcomes, np.maximum(0, start - t), side="right") / n_all
                keep = (moved_s >= start) & (f0 < 1.0)
                k0 = f0[keep]
                terms = (f1[keep] - k0) / (1 - k0)
                if terms.size:
                    expected[w] = float(np.cumsum(terms)[-1])
                in_flight[w] = int(terms.size)
                moved[w] = int(np.count_nonzero(moved_s[keep] != math.inf))
        out = []
        for w in p.exit_windows:
            e_w, m_w = expected[w], moved[w]
            if e_w <= 0:
                continue
            phi = min(max(1.0, st.exit_dispersion.get(w, 1.0)), p.max_dispersion)
            score = _poisson_low_log10(m_w / phi, e_w / phi)
            window_s = w * p.step_s
            out.append(
                CohortVerdict(key, now, now - window_s, in_flight[w], m_w, e_w, window_s, score)
            )
            if (
                not st.episode.firing
                and (now // p.step_s) % w == 0
                and e_w >= 1.0
                and score < p.exit_z / 2
            ):
                resid = (m_w - e_w) ** 2 / e_w
                st.exit_dispersion[w] = 0.95 * st.exit_dispersion.get(w, 1.0) + 0.05 * min(
                    resid, 4.0
                )
        return out


def _finite_quantile(outcomes: list, q: float) -> float:
    """The q-quantile of the finite values of a sorted list (inf: none)."""
    finite = bisect.bisect_left(outcomes, math.inf)
    return outcomes[int(q * (finite - 1))] if finite else math.inf


def _poisson_low_log10(count: float, expected: float) -> float:
    """-log10 P(X <= count) for X ~ Poisson(expected), real count (quasi-Poisson)."""
    if count >= expected:
        return 0.0
    p = float(gammaincc(count + 1, expected))
    return -math.log10(max(p, 1e-300))


def _binomial_low_log10(moved: float, n: float, f: float) -> float:
    """-log10 P(Binomial(n, f) <= moved), for real n and moved (a quasi-binomial
    scaled by its dispersion): the regularised incomplete beta I_{1-f}(n - k, k + 1)."""
    if moved >= n:
        return 0.0
    p = float(betainc(n - moved, moved + 1, 1 - f))
    return -math.log10(max(p, 1e-300))
