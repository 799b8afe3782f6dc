"""DetectBreakpoints: contact spikes per (domain, journey stage, scenario) against
each key's own baseline, window by window in event time."""

from __future__ import annotations

import hashlib
import typing
from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Timestamp

from voc.catalog import UNTAGGED
from voc.contracts.streams import SCHEMA_VERSION
from voc.contracts.validate import format_time
from voc.detect.spike import SpikeParams, SpikeState, WindowCount, observe

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
    """Keyed by detection key; input WindowCount (global window). Counts are
    buffered until the watermark passes their window's end and then fed to the
    detector in window order. A count for a window older than one already judged
    (a late pane) is counted as `late_windows` and not judged again."""

    BUFFER = BagStateSpec("buffer", PickleCoder())
    STATE = ReadModifyWriteStateSpec("state", PickleCoder())
    TIMER_AT = ReadModifyWriteStateSpec("timer_at_us", VarIntCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(
        self,
        params: SpikeParams,
        owner_of: dict[str, str],
        default_owner: str,
        origin_s: int | None = None,
    ) -> None:
        self.params = params
        self.origin_s = origin_s
        self.owner_of = owner_of
        self.default_owner = default_owner
        self.late_windows = Metrics.counter("detect", "late_windows")
        self.alerts = Metrics.counter("detect", "alerts")

    def process(
        self,
        element,
        buffer=beam.DoFn.StateParam(BUFFER),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        _, wc = element
        buffer.add(wc)
        end_us = (wc.window_start_s + self.params.window_s) * 1_000_000
        current = timer_at.read()
        if current is None or end_us > current:
            timer_at.write(end_us)
            flush.set(Timestamp(micros=end_us))

    @on_timer(FLUSH)
    def on_flush(
        self,
        key=beam.DoFn.KeyParam,
        fire_ts=beam.DoFn.TimestampParam,
        buffer=beam.DoFn.StateParam(BUFFER),
        state_cell=beam.DoFn.StateParam(STATE),
        timer_at=beam.DoFn.StateParam(TIMER_AT),
    ):
        p = self.params
        fire_s = fire_ts.micros // 1_000_000
        counts = sorted(buffer.read())
        due = [wc for wc in counts if wc.window_start_s + p.window_s <= fire_s]
        state = state_cell.read() or SpikeState()
        for wc in due:
            if (
                state.last_window_start_s is not None
                and wc.window_start_s <= state.last_window_start_s
            ):
                self.late_windows.inc()
                continue
            for verdict in observe(state, wc, p, self.origin_s):
                if verdict.opens_episode:
                    self.alerts.inc()
                    yield self._alert(key, verdict)
        state_cell.write(state)
        buffer.clear()
        for wc in counts:
            if wc not in due:
                buffer.add(wc)
        timer_at.clear()

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


class CountDistinctFn(beam.CombineFn):
    def create_accumulator(self) -> set[str]:
        return set()

    def add_input(self, acc: set[str], contact_id: str) -> set[str]:
        acc.add(contact_id)
        return acc

    def merge_accumulators(self, accs) -> set[str]:
        return set().union(*accs)

    def extract_output(self, acc: set[str]) -> int:
        return len(acc)


class _ToWindowCountFn(beam.DoFn):
    def process(self, element, w=beam.DoFn.WindowParam):
        key, count = element
        yield key, WindowCount(int(w.start.micros // 1_000_000), int(count))


class DetectBreakpoints(beam.PTransform):
    """Tagged-contact dicts (timestamped in event time) -> alert dicts
    (schemas/alert.schema.json), at most one per episode per key.

    Windowing: fixed windows of `window_s`; a contact later than
    `allowed_lateness_s` behind the watermark does not count towards detection
    (it still reaches the warehouse: this stage only reads the contacts).
    """

    def __init__(
        self,
        params: SpikeParams,
        stage_of: dict[str, str],
        owner_of: dict[str, str],
        allowed_lateness_s: int,
        default_owner: str = "customer_service",
        origin_s: int | None = None,
    ) -> None:
        super().__init__()
        self.origin_s = origin_s
        self.params = params
        self.stage_of = stage_of
        self.owner_of = owner_of
        self.allowed_lateness_s = allowed_lateness_s
        self.default_owner = default_owner

    def expand(self, contacts):
        stage_of = self.stage_of
        return (
            contacts
            | "KeyByScenario"
            >> beam.Map(lambda c: (detection_key(c, stage_of), c["contact_id"])).with_output_types(
                tuple[str, str]
            )
            | "FixedWindows"
            >> beam.WindowInto(
                window.FixedWindows(self.params.window_s),
                allowed_lateness=self.allowed_lateness_s,
            )
            # Distinct contact ids, not elements: a contact replayed after a
            # restart (or recovered from the warehouse) is counted once.
            | "CountPerWindow" >> beam.CombinePerKey(CountDistinctFn())
            | "WithWindowStart"
            >> beam.ParDo(_ToWindowCountFn()).with_output_types(tuple[str, typing.Any])
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "DetectSpikes"
            >> beam.ParDo(
                DetectSpikesFn(self.params, self.owner_of, self.default_owner, self.origin_s)
            ).with_input_types(tuple[str, typing.Any])
        )
