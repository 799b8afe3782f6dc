"""DetectBreakpoints: contact spikes per (domain, journey stage, scenario) against
each key's own baseline, window by window in event time."""

from __future__ import annotations

import hashlib
import typing
from collections import defaultdict
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Timestamp

from voc.catalog import UNTAGGED
from voc.contracts.streams import SCHEMA_VERSION
from voc.contracts.validate import format_time, to_micros
from voc.detect.spike import SpikeParams, SpikeState, WindowCount, observe
from voc.pipeline.shards import END_OF_INPUT, shard_of

KEY_SEP = "|"


def detection_key(contact: dict, stage_of: dict[str, str]) -> str:
    """domain|stage|scenario. A tagged contact counts under its scenario's own
    catalog domain and stage (a stable key: a cross-cutting scenario such as a
    failed payment is one key, whichever business the customer came from); an
    untagged one under the customer's business and journey stage, so that a
    new, unknown problem still has a place."""
    sid = contact["scenario_id"]
    if sid:
        return KEY_SEP.join((sid.split(".", 1)[0], stage_of.get(sid, "unknown"), sid))
    return KEY_SEP.join((contact["domain"], contact["journey_stage"] or "unknown", UNTAGGED))


def alert_id(key: str, window_start_s: int) -> str:
    # Same key and first window -> same id on every run: the sink stays idempotent.
    digest = hashlib.blake2b(f"{key}@{window_start_s}".encode(), digest_size=12).hexdigest()
    return f"alert-{digest}"


class DetectSpikesFn(beam.DoFn):
    """Keyed by detection shard (a fixed hash of the detection key); each
    element is a batch of (detection key, window start s, contact id). The
    contacts are kept until the watermark passes their window's end plus
    `allowed_lateness_s` (one timer per window end, a dynamic timer tag); then
    each window's distinct contacts are counted and fed to the key's detector
    in window order. State per shard: the waiting contacts grouped by when
    their window is judged, and every key's SpikeState, one value each.

    Lateness: contacts that reach a window their key has already judged are
    counted as `late_contacts` (and the window as `late_windows`), not judged.
    """

    PENDING = ReadModifyWriteStateSpec("pending", PickleCoder())
    # {due us: [(key, window start s, contact id)]}: contacts by when their window is judged
    SPIKES = ReadModifyWriteStateSpec("spikes", PickleCoder())  # {key: SpikeState}
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(
        self,
        params: SpikeParams,
        owner_of: dict[str, str],
        default_owner: str,
        allowed_lateness_s: int,
        origin_s: int | None = None,
        *,
        bounded: bool = False,
    ) -> None:
        self.params = params
        self.origin_s = origin_s
        self.owner_of = owner_of
        self.default_owner = default_owner
        self.allowed_lateness_s = allowed_lateness_s
        # Bounded input: one firing at the end of input judges every window
        # in order (the watermark jumps to the end once all input is in).
        self.bounded = bounded
        self.late_windows = Metrics.counter("detect", "late_windows")
        self.late_contacts = Metrics.counter("detect", "late_contacts")
        self.alerts = Metrics.counter("detect", "alerts")

    def _due_us(self, window_start_s: int) -> int:
        return (window_start_s + self.params.window_s + self.allowed_lateness_s) * 1_000_000

    def process(
        self, element, pending=beam.DoFn.StateParam(PENDING), flush=beam.DoFn.TimerParam(FLUSH)
    ):
        _, batch = element
        by_due = pending.read() or {}
        new_dues = set()
        for item in batch:
            due_us = self._due_us(item[1])
            if due_us not in by_due:
                by_due[due_us] = []
                new_dues.add(due_us)
            by_due[due_us].append(item)
        pending.write(by_due)
        if self.bounded:
            flush.set(END_OF_INPUT)
            return
        for due_us in new_dues:
            flush.set(Timestamp(micros=due_us), dynamic_timer_tag=str(due_us))

    @on_timer(FLUSH)
    def on_flush(
        self,
        fire_ts=beam.DoFn.TimestampParam,
        pending=beam.DoFn.StateParam(PENDING),
        spikes_state=beam.DoFn.StateParam(SPIKES),
    ):
        fire_us = fire_ts.micros
        by_due = pending.read() or {}
        # A watermark jump fires many window ends in one bundle, oldest first:
        # each takes only the contacts whose window it closes.
        due = sorted(d for d in by_due if d <= fire_us)
        if not due:
            return
        windows: dict[tuple[str, int], set[str]] = defaultdict(set)
        for d in due:
            for key, ws, contact_id in by_due.pop(d):
                # Distinct contact ids, not elements: a contact replayed
                # after a restart (or recovered) is counted once.
                windows[(key, ws)].add(contact_id)
        pending.write(by_due)
        spikes = spikes_state.read() or {}
        for key, ws in sorted(windows):
            state = spikes.setdefault(key, SpikeState())
            if state.last_window_start_s is not None and ws <= state.last_window_start_s:
                self.late_windows.inc()
                self.late_contacts.inc(len(windows[(key, ws)]))
                continue
            count = WindowCount(ws, len(windows[(key, ws)]))
            for verdict in observe(state, count, self.params, self.origin_s):
                if verdict.opens_episode:
                    self.alerts.inc()
                    yield self._alert(key, verdict)
        spikes_state.write(spikes)

    def _alert(self, key: str, v) -> beam.window.TimestampedValue:
        domain, stage, scenario = key.split(KEY_SEP)
        start = datetime.fromtimestamp(v.window_start_s, tz=UTC)
        end = datetime.fromtimestamp(v.window_start_s + self.params.window_s, tz=UTC)
        row = {
            "schema_version": SCHEMA_VERSION,
            "alert_id": alert_id(key, v.window_start_s),
            "kind": "contact_spike",
            "domain": domain,
            "journey_stage": stage,
            "scenario_id": scenario,
            "window_start": format_time(start),
            "window_end": format_time(end),
            "count": v.count,
            "baseline_mean": round(v.baseline_mean, 4),
            "threshold": round(v.threshold, 4),
            "suggested_owner": self.owner_of.get(scenario, self.default_owner),
        }
        return window.TimestampedValue(row, v.window_start_s + self.params.window_s)


def _by_shard(rows: list[dict], stage_of: dict[str, str], window_s: int, shards: int):
    out: dict[str, list] = defaultdict(list)
    for row in rows:
        key = detection_key(row, stage_of)
        t_s = to_micros(row["event_time"]) // 1_000_000
        out[shard_of(key, shards)].append((key, t_s - t_s % window_s, row["contact_id"]))
    return list(out.items())


class DetectBreakpoints(beam.PTransform):
    """Batches of tagged-contact dicts (one PCollection or a tuple of them) ->
    alert dicts (schemas/alert.schema.json),
    timestamped with the window's end, at most one per episode per key.

    Windowing: fixed windows of `params.window_s` in event time, from each
    contact's `event_time` (the input is in the global window); a window is
    judged once the watermark passes its end plus `allowed_lateness_s`. State
    is keyed by `shards` buckets of detection keys, not by key: a batch of
    contacts becomes a handful of stateful elements.
    """

    def __init__(
        self,
        params: SpikeParams,
        stage_of: dict[str, str],
        owner_of: dict[str, str],
        allowed_lateness_s: int,
        default_owner: str = "customer_service",
        origin_s: int | None = None,
        shards: int = 4,
        *,
        bounded: bool = False,
    ) -> None:
        super().__init__()
        self.origin_s = origin_s
        self.params = params
        self.stage_of = stage_of
        self.owner_of = owner_of
        self.allowed_lateness_s = allowed_lateness_s
        self.default_owner = default_owner
        self.shards = shards
        self.bounded = bounded

    def expand(self, contact_batches):
        # One PCollection of batches, or several: each is keyed where it is
        # made, so only small (key, window, id) tuples cross the Flatten.
        if not isinstance(contact_batches, tuple):
            contact_batches = (contact_batches,)
        keyed = [
            batches
            | f"KeyByShard{i}"
            >> beam.FlatMap(
                _by_shard, self.stage_of, self.params.window_s, self.shards
            ).with_output_types(tuple[str, typing.Any])
            # (shard, list[(detection key, window start s, contact id)])
            for i, batches in enumerate(contact_batches)
        ]
        return (
            keyed
            | "Union" >> beam.Flatten().with_output_types(tuple[str, typing.Any])
            | "DetectSpikes"
            >> beam.ParDo(
                DetectSpikesFn(
                    self.params,
                    self.owner_of,
                    self.default_owner,
                    self.allowed_lateness_s,
                    self.origin_s,
                    bounded=self.bounded,
                )
            ).with_input_types(tuple[str, typing.Any])
        )
