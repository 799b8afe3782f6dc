"""Contact-spike detection for one key (domain, journey stage, scenario) over
consecutive event-time windows, against the key's own baseline.

Pure and Beam-free. The baseline is an exponentially weighted mean and variance
of the key's window counts, zeros included (a quiet hour is information). A
window breaks when its count reaches

    threshold = max(min_count, mean + z * sqrt(max(var, mean, var_floor)))

(the sqrt(mean) term is the Poisson noise floor for rare scenarios), or when
the last `run_windows` windows together reach the same rule scaled to their
length (a slow, sustained rise that no single window shows: a Poisson sum
test, with `min_run_count` as its floor).

One alert is raised per episode: the key stays "firing" and says nothing more
until its count stays below the threshold for `rearm_windows` windows in a
row. While firing, the baseline does not learn, so an incident does not become
the new normal; and it learns a window's count only up to mean + 2 spreads
(winsorised), so a ramping incident cannot lift its own bar before it peaks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class SpikeParams:
    window_s: int = 3600
    alpha: float = 0.05
    z: float = 4.0
    min_count: int = 6
    var_floor: float = 0.5
    warmup_windows: int = 24
    rearm_windows: int = 3
    run_windows: int = 3
    min_run_count: int = 10


class WindowCount(NamedTuple):
    window_start_s: int  # epoch seconds, UTC
    count: int


class SpikeVerdict(NamedTuple):
    window_start_s: int
    count: int
    baseline_mean: float
    threshold: float
    opens_episode: bool  # True exactly once per episode: this is the alert


@dataclass
class SpikeState:
    """Everything the detector remembers about one key; plain data, so that Beam
    can keep it in a ValueState and tests can build it by hand."""

    mean: float = 0.0
    var: float = 0.0
    windows_seen: int = 0
    last_window_start_s: int | None = None
    firing: bool = False
    quiet_run: int = 0
    recent: tuple[int, ...] = ()  # the last run_windows - 1 counts, oldest first


def _spread(state: SpikeState, p: SpikeParams) -> float:
    return math.sqrt(max(state.var, state.mean, p.var_floor))


def threshold_of(state: SpikeState, p: SpikeParams) -> float:
    return max(float(p.min_count), state.mean + p.z * _spread(state, p))


def run_threshold_of(state: SpikeState, p: SpikeParams) -> float:
    n = p.run_windows
    spread = math.sqrt(n * max(state.var, state.mean, p.var_floor))
    return max(float(p.min_run_count), n * state.mean + p.z * spread)


def observe(
    state: SpikeState, wc: WindowCount, p: SpikeParams, origin_s: int | None = None
) -> list[SpikeVerdict]:
    """Feed one window's count (windows must come in increasing order; the
    windows skipped since the last call count as zero). Returns a verdict per
    window considered, the skipped zeros included; mutates `state`.

    `origin_s`: when the stream started being watched. A key first seen after
    it had zero contacts in every window since: those quiet windows are its
    history, so a rare scenario that first shows up in a burst is judged
    against a learned zero, not left in warm-up."""
    if state.last_window_start_s is None and origin_s is not None:
        first = origin_s - origin_s % p.window_s
        if wc.window_start_s > first:
            state.last_window_start_s = first - p.window_s
    if state.last_window_start_s is not None and wc.window_start_s <= state.last_window_start_s:
        raise ValueError(
            f"window {wc.window_start_s} is not after {state.last_window_start_s}: "
            "feed windows in event-time order"
        )
    verdicts = []
    if state.last_window_start_s is not None:
        gap = (wc.window_start_s - state.last_window_start_s) // p.window_s - 1
        # Long silences are summarised: after a few dozen zero windows the
        # EWMA has converged, so feeding more of them changes nothing visible;
        # they still count towards the warm-up.
        fed = min(gap, 200)
        state.windows_seen += gap - fed
        for i in range(fed):
            start = wc.window_start_s - (fed - i) * p.window_s
            verdicts.append(_step(state, WindowCount(start, 0), p))
    verdicts.append(_step(state, wc, p))
    state.last_window_start_s = wc.window_start_s
    return verdicts


def _step(state: SpikeState, wc: WindowCount, p: SpikeParams) -> SpikeVerdict:
    threshold = threshold_of(state, p)
    run = (*state.recent, wc.count)
    sustained = len(run) == p.run_windows and sum(run) >= run_threshold_of(state, p)
    state.recent = run[-(p.run_windows - 1) :] if p.run_windows > 1 else ()
    breaking = state.windows_seen >= p.warmup_windows and (wc.count >= threshold or sustained)
    opens = breaking and not state.firing
    if breaking:
        state.firing = True
        state.quiet_run = 0
    elif state.firing:
        state.quiet_run += 1
        if state.quiet_run >= p.rearm_windows:
            state.firing = False
            state.quiet_run = 0
    verdict = SpikeVerdict(wc.window_start_s, wc.count, state.mean, threshold, opens)
    if not state.firing:
        _learn(state, wc.count, p)
    state.windows_seen += 1
    return verdict


def _learn(state: SpikeState, count: int, p: SpikeParams) -> None:
    if state.windows_seen == 0:
        state.mean, state.var = float(count), 0.0
        return
    capped = min(float(count), state.mean + 2 * _spread(state, p))
    delta = capped - state.mean
    state.mean += p.alpha * delta
    state.var = (1 - p.alpha) * (state.var + p.alpha * delta * delta)
