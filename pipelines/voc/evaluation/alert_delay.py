"""Wall-clock delay from the event that completes an alert's evidence to the
alert record on `voc.alerts` (benchmarks/bench_alert_delay.py). Pure.

The job judges a 5-minute step when its watermark passes the step's end, and
the watermark of a partition is its newest event time minus the allowed
disorder (`max_out_of_order_s`, DECISIONLOG "Kafka delivery and watermark"). So
the evidence of an alert whose window ends at T is complete for the job when
every input partition has delivered a record stamped T + disorder or later:
the completing event is, over the partitions, the latest-sent of each one's
first such record. (A partition with no such record follows the others once
idle; it is left out, so a delay that waits on the idle rule is counted from
the other partitions' completing record, as it is felt.) The delay is the
alert's arrival on the topic minus that record's send time.
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
    """Per input partition, the records sent in event-time order; answers which
    record completed the evidence of a window ending at T."""

    def __init__(self, sent: list[Sent], max_out_of_order_s: float) -> None:
        self.disorder_ms = int(max_out_of_order_s * 1000)
        by_partition: dict[tuple[str, int], list[Sent]] = defaultdict(list)
        for s in sent:
            by_partition[(s.topic, s.partition)].append(s)
        self.partitions = {}
        for tp, rows in by_partition.items():
            # First-time-seen newest event time per partition: the watermark
            # only moves forward, so a record older than one before it completes nothing.
            newest, marks, times = -1, [], []
            for r in rows:
                if r.timestamp_ms > newest:
                    newest = r.timestamp_ms
                    marks.append(newest)
                    times.append(r.sent_s)
            self.partitions[tp] = (marks, times)

    def completed_at(self, window_end_s: float) -> float | None:
        """Wall time the last partition delivered the record that moved its
        watermark past `window_end_s`; None if no partition ever did."""
        need = int(window_end_s * 1000) + self.disorder_ms
        at = None
        for marks, times in self.partitions.values():
            i = bisect.bisect_left(marks, need)
            if i < len(marks):
                at = times[i] if at is None else max(at, times[i])
        return at


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
