"""DetectBreakpoints: every kind of journey break (voc.detect.engine), judged on
5-minute steps of event time as the watermark passes them."""

from __future__ import annotations

import typing

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Timestamp

from voc.contracts.streams import SCHEMA_VERSION
from voc.contracts.validate import to_micros
from voc.detect.alerts import to_row
from voc.detect.engine import BreakpointEngine, DetectCatalog, EngineParams
from voc.pipeline.shards import END_OF_INPUT

# One key: every rate is a share of its business's traffic and the common
# scenarios' of all traffic, so the detectors see all streams in one place.
# The volume that reaches them is small (slim records, a few thousand a
# minute at most); the cost is one worker for detection.
DETECT_KEY = "breakpoints"

# The fields each detector reads: only these are kept in state.
_FIELDS = {
    "contact": (
        "contact_id",
        "channel",
        "event_time",
        "domain",
        "customer_id",
        "order_id",
        "ticket_id",
        "related_ticket_id",
        "text",
        "journey_stage",
        "scenario_id",
        "method",
    ),
    "app_events": (
        "event_time",
        "domain",
        "journey_stage",
        "event_name",
        "order_id",
        "session_id",
    ),
    "social_posts": ("event_time", "domain", "sentiment"),
}


def _slim(stream: str):
    fields = _FIELDS[stream]

    def slim(batch) -> list[tuple[str, tuple[str, list[dict]]]]:
        # A StoreBatch (validated stream records) or a list of tagged-contact dicts.
        rows = batch.rows if hasattr(batch, "rows") else batch
        if not rows:
            return []
        return [(DETECT_KEY, (stream, [{f: r.get(f) for f in fields} for r in rows]))]

    return slim


class DetectBreakpointsFn(beam.DoFn):
    """Keyed by DETECT_KEY; each element is (stream, slim records). The records
    wait in the engine's step buffer; a watermark timer at each 5-minute step
    end closes the steps up to it (one timer per step end that has records, a
    dynamic timer tag), and the alerts of those steps go out. A record whose
    step is already closed is late: stored, not judged (`detect.late`)."""

    ENGINE = ReadModifyWriteStateSpec("engine", PickleCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(
        self, catalog: DetectCatalog, params: EngineParams, *, bounded: bool = False
    ) -> None:
        self.catalog = catalog
        self.params = params
        # Bounded input: one firing at the end of input judges every step in order.
        self.bounded = bounded
        self.alerts = Metrics.counter("detect", "alerts")
        self.late = Metrics.counter("detect", "late_records")

    def process(
        self,
        element,
        engine_state=beam.DoFn.StateParam(ENGINE),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        _, (stream, rows) = element
        engine = engine_state.read() or BreakpointEngine(self.catalog, self.params)
        late_before = engine.late
        step_s = self.params.step_s
        due: set[int] = set()
        for r in rows:
            engine.add(stream, r)
            due.add((to_micros(r["event_time"]) // 1_000_000 // step_s + 1) * step_s)
        self.late.inc(engine.late - late_before)
        engine_state.write(engine)
        if self.bounded:
            flush.set(END_OF_INPUT)
            return
        for end_s in due:
            flush.set(Timestamp(seconds=end_s), dynamic_timer_tag=str(end_s))

    @on_timer(FLUSH)
    def on_flush(self, fire_ts=beam.DoFn.TimestampParam, engine_state=beam.DoFn.StateParam(ENGINE)):
        engine = engine_state.read()
        if engine is None:
            return
        raised = engine.advance(int(fire_ts.micros // 1_000_000))
        engine_state.write(engine)
        for alert in raised:
            self.alerts.inc()
            yield window.TimestampedValue(to_row(alert, SCHEMA_VERSION), fire_ts)


class DetectBreakpoints(beam.PTransform):
    """(tagged-contact batches, app-event batches, social-post batches) -> alert
    dicts (schemas/alert.schema.json), at most one per episode per (kind, key).

    Each input is a PCollection of lists of dicts or of StoreBatch (their
    `rows`), or a tuple of them (e.g.
    tagged contacts and the ones recovered after a restart). Event time comes
    from each record's `event_time`; records wait until the watermark passes
    the end of their 5-minute step; lateness is not allowed (a late record is
    counted, not judged).
    """

    def __init__(
        self, catalog, params: EngineParams | None = None, *, bounded: bool = False
    ) -> None:
        super().__init__()
        self.catalog = DetectCatalog.of(catalog)
        self.params = params or EngineParams()
        self.bounded = bounded

    def expand(self, inputs):
        contacts, app_events, social_posts = inputs
        if not isinstance(contacts, tuple):
            contacts = (contacts,)
        streams = [("contact", c) for c in contacts] + [
            ("app_events", app_events),
            ("social_posts", social_posts),
        ]
        keyed = [
            batches
            | f"Slim{i}" >> beam.FlatMap(_slim(stream)).with_output_types(tuple[str, typing.Any])
            # (DETECT_KEY, (stream, list[slim record]))
            for i, (stream, batches) in enumerate(streams)
        ]
        return (
            keyed
            | "Union" >> beam.Flatten().with_output_types(tuple[str, typing.Any])
            | "Detect"
            >> beam.ParDo(
                DetectBreakpointsFn(self.catalog, self.params, bounded=self.bounded)
            ).with_input_types(tuple[str, typing.Any])
        )
