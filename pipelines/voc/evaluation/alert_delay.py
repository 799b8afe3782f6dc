"""Wall-clock delay from the event that completes an alert's evidence to the
alert record on `voc.alerts` (benchmarks/bench_alert_delay.py). Pure.

A streaming run judges a 5-minute step once the store holds, on every input
partition, a record at least the allowed disorder (`max_out_of_order_s`, 10
minutes) newer than the step's end, or the partition's end offset, the idle
rule then following the newest record of all partitions (DECISIONLOG
"Breakpoints from the warehouse"). In a live stream the partitions are
caught up nearly all the time, so the evidence of an alert whose window ends
at T is complete, at the earliest, when the first record stamped T +
disorder or later arrives on any partition: that record is the completing
event, and the delay is the alert's arrival on the topic minus its send
time. (A partition that lags behind makes the true completing event later,
so the delay measured is an upper bound.)
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sent:
    """One input record as the replay sent it."""

    topic: str
    partition: int
    timestamp_ms: int  # event time
    sent_s: float  # wall clock when the broker acknowledged it


@dataclass(frozen=True, slots=True)
class Received:
    """One alert record as it arrived on voc.alerts."""

    alert_id: str
    kind: str
    window_end_s: float  # event time the evidence was complete (the step's end)
    received_s: float  # wall clock


class CompletingEvents:
    """The records sent, in event-time order of first appearance; answers which
    record completed the evidence of a window ending at T."""

    def __init__(self, sent: list[Sent], max_out_of_order_s: float) -> None:
        self.disorder_ms = int(max_out_of_order_s * 1000)
        # The newest event time seen so far, each time it grew, and when: an
        # older record after a newer one completes nothing (the rule only moves forward).
        newest, self.marks, self.times = -1, [], []
        for r in sorted(sent, key=lambda r: r.sent_s):
            if r.timestamp_ms > newest:
                newest = r.timestamp_ms
                self.marks.append(newest)
                self.times.append(r.sent_s)

    def completed_at(self, window_end_s: float) -> float | None:
        """Wall time the first record stamped past `window_end_s` + the
        disorder was sent; None if none was."""
        i = bisect.bisect_left(self.marks, int(window_end_s * 1000) + self.disorder_ms)
        return self.times[i] if i < len(self.marks) else None


def delays(
    sent: list[Sent], alerts: list[Received], max_out_of_order_s: float, *, after_s: float = 0
) -> list[tuple[Received, float]]:
    """(alert, delay s) for each alert whose completing event was sent at or
    after `after_s` (the paced part of a replay)."""
    events = CompletingEvents(sent, max_out_of_order_s)
    out = []
    for a in alerts:
        done = events.completed_at(a.window_end_s)
        if done is not None and done >= after_s:
            out.append((a, a.received_s - done))
    return out


def summary(measured: list[tuple[Received, float]]) -> dict:
    values = sorted(d for _, d in measured)
    if not values:
        return {"alerts": 0}

    def q(p: float) -> float:
        if len(values) == 1:
            return round(values[0], 2)
        return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 2)

    by_kind: dict[str, list[float]] = defaultdict(list)
    for a, d in measured:
        by_kind[a.kind].append(d)
    return {
        "alerts": len(values),
        "delay_p50_s": q(50),
        "delay_p95_s": q(95),
        "delay_max_s": round(values[-1], 2),
        "by_kind": {
            k: {"alerts": len(v), "delay_p50_s": round(statistics.median(v), 2)}
            for k, v in sorted(by_kind.items())
        },
    }
