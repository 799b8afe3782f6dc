"""The VOC Loop Beam job. This module wires the stages and nothing else:
reading it tells the whole data flow.

    raw records ─ ValidateEvents ─┬─ dead letters ───────────────────────► raw.dead_letters
                                  ├─ valid records per stream ───────────► raw.<stream>
                                  └─ ExtractContacts ─ StitchJourneys (+ stored raw.app_events)
                                        ─ TagRootCause ─┬────────────────► raw.contacts
                                                        └─ DetectBreakpoints ► raw.alerts
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions

from voc.catalog import load_catalog
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.detect.spike import SpikeParams
from voc.kafka.topics import ALERTS, DEAD_LETTERS
from voc.pipeline.contacts import ExtractContacts
from voc.pipeline.detect import DetectBreakpoints
from voc.pipeline.options import VocOptions
from voc.pipeline.publish import PublishToKafka
from voc.pipeline.read import ReadStreamFiles, stream_start_s
from voc.pipeline.recover import ReadRecovered, Recovered, remove_snapshots, snapshot_path
from voc.pipeline.sink import WriteToWarehouse
from voc.pipeline.stitch import StitchJourneys
from voc.pipeline.tag import TagRootCause
from voc.pipeline.validate import ValidateEvents

if TYPE_CHECKING:
    from voc.pipeline.kafka_source import KafkaReadConfig


def build_pipeline(
    p: beam.Pipeline,
    opts: VocOptions,
    source: beam.PTransform | None = None,
    recovered: Recovered | None = None,
    publish_to: str | None = None,
):
    """Add the whole job to `p`. `source` emits RawBatch elements (default:
    the stream files); `recovered` is state read back from the warehouse after a restart;
    `publish_to` is a Kafka bootstrap address for the alert and dead-letter topics."""
    catalog = load_catalog(opts.catalog)
    warehouse, batch = opts.warehouse, opts.batch_size
    recovered = recovered or Recovered()

    raw = p | "Read" >> (source or ReadStreamFiles(opts.input_dir, batch))
    # RawBatch: a file chunk or a Kafka poll
    checked = raw | "ValidateEvents" >> ValidateEvents()
    # contact_records: list[ValidRecord] | <stream>: list[dict] | dead_letters: list[dict]
    stored = {
        stream: checked[str(stream)]
        | f"Store{stream.title()}" >> WriteToWarehouse(str(stream), warehouse, batched=True)
        for stream in INPUT_STREAMS
    }
    # (table, rows inserted) per batch written
    snapshot = snapshot_path(warehouse)
    replayed = p | "RecoveredRecords" >> ReadRecovered(recovered, "records", snapshot)
    # list[ValidRecord] read back from the warehouse: contacts that never came out tagged
    contacts = checked.contact_records | "ExtractContacts" >> ExtractContacts()
    recovered_contacts = replayed | "ExtractRecoveredContacts" >> ExtractContacts()
    # list[Contact]
    bounded = not opts.view_as(StandardOptions).streaming
    stitched = (
        stored[Stream.APP_EVENTS],
        contacts,
        recovered_contacts,
    ) | "StitchJourneys" >> StitchJourneys(
        warehouse, opts.lookback_s, opts.recent_n, opts.shards, bounded=bounded
    )
    # list[StitchedContact], journeys read from raw.app_events once stored
    tagged = stitched | "TagRootCause" >> TagRootCause(opts.catalog, opts.tag_model)
    # list of tagged-contact dicts
    baseline = p | "RecoveredContacts" >> ReadRecovered(recovered, "tagged", snapshot)
    alerts = (tagged, baseline) | "DetectBreakpoints" >> DetectBreakpoints(
        SpikeParams(window_s=opts.window_s),
        stage_of={s.id: s.stage for s in catalog.scenarios},
        owner_of={s.id: s.owner for s in catalog.scenarios},
        allowed_lateness_s=opts.allowed_lateness_s,
        origin_s=opts.detect_origin_s,
        shards=opts.shards,
        bounded=bounded,
    )
    # alert dict
    _ = tagged | "StoreContacts" >> WriteToWarehouse("contacts", warehouse, batched=True)
    _ = alerts | "StoreAlerts" >> WriteToWarehouse("alerts", warehouse, batch)
    _ = checked.dead_letters | "StoreDeadLetters" >> WriteToWarehouse(
        "dead_letters", warehouse, batched=True
    )
    if publish_to:
        _ = alerts | "PublishAlerts" >> PublishToKafka(publish_to, ALERTS, "alert_id")
        _ = (
            checked.dead_letters
            | "EachDeadLetter" >> beam.FlatMap(lambda rows: rows)
            | "PublishDeadLetters" >> PublishToKafka(publish_to, DEAD_LETTERS, "dead_letter_id")
        )


@dataclass
class RunResult:
    counters: dict[str, int]
    recovered: int = 0
    reconciled: int = 0


def run(opts: VocOptions, source: beam.PTransform | None = None) -> RunResult:
    """Run the job to completion on this machine and return its Beam counters."""
    from voc.warehouse.catalog_tables import load_catalog_tables
    from voc.warehouse.duck import close_shared, open_warehouse

    con = open_warehouse(opts.warehouse)
    try:
        load_catalog_tables(con, load_catalog(opts.catalog))
    finally:
        con.close()
    if source is None and opts.detect_origin_s is None:
        opts.detect_origin_s = stream_start_s(opts.input_dir)
    try:
        with beam.Pipeline(options=opts) as p:
            build_pipeline(p, opts, source)
        result = p.result
    finally:
        close_shared()
        remove_snapshots(opts.warehouse)
    return RunResult(_counters(result))


def run_streaming(opts: VocOptions, kafka: KafkaReadConfig, *, publish: bool = True) -> RunResult:
    """Run the job on Kafka with the streaming Prism runner until the readers
    finish (bounded mode, --until-idle, or SIGINT/SIGTERM), after recovering
    state from the warehouse."""
    from voc.pipeline.kafka_source import ReadFromKafka
    from voc.pipeline.recover import recover
    from voc.warehouse.catalog_tables import load_catalog_tables
    from voc.warehouse.duck import close_shared, open_warehouse

    con = open_warehouse(opts.warehouse)
    try:
        load_catalog_tables(con, load_catalog(opts.catalog))
    finally:
        con.close()
    recovered = recover(opts.warehouse, baseline_horizon_s=opts.baseline_horizon_s)
    p = beam.Pipeline(options=opts)
    build_pipeline(
        p, opts, ReadFromKafka(kafka), recovered, publish_to=kafka.bootstrap if publish else None
    )
    try:
        result = p.run()
        result.wait_until_finish()
    finally:
        close_shared()
        remove_snapshots(opts.warehouse)
    reconciled = reconcile(opts)
    return RunResult(_counters(result), recovered=len(recovered.records), reconciled=reconciled)


def reconcile(opts: VocOptions) -> int:
    """Stitch and tag, in a short batch run, any contact record that is in the
    raw tables but not in raw.contacts; return how many there were.

    A drained streaming run should leave none. One can remain when the runner
    drops a timer (Prism splitting a bundle that holds timers, apache/beam
    issue 35771, seen here after a broker restart); the raw tables are the
    durable truth, so the gap is closed from them rather than left."""
    from voc.pipeline.recover import recover
    from voc.warehouse.duck import close_shared

    missing = recover(opts.warehouse, baseline_horizon_s=0)
    if not missing.records:
        return 0
    batch_opts = embedded_options(
        warehouse=opts.warehouse,
        catalog=opts.catalog,
        tag_model=opts.tag_model,
        window_s=opts.window_s,
        lookback_s=opts.lookback_s,
        recent_n=opts.recent_n,
    )
    try:
        with beam.Pipeline(options=batch_opts) as p:
            build_pipeline(p, batch_opts, beam.Create([]), Recovered(records=missing.records))
    finally:
        close_shared()
        remove_snapshots(batch_opts.warehouse)
    return len(missing.records)


def _counters(result) -> dict[str, int]:
    try:
        return {
            f"{c.key.metric.namespace}.{c.key.metric.name}": c.committed
            for c in result.metrics().query()["counters"]
            if not c.key.metric.namespace.startswith("beam.")
        }
    except Exception:  # some runners report no metrics after the job ends
        return {}


def embedded_options(**values) -> VocOptions:
    """Options for the embedded mode: the local runner, one worker process."""
    base = {"runner": "DirectRunner", "direct_num_workers": 1, "direct_running_mode": "in_memory"}
    return VocOptions.from_dictionary(
        {**base, **{k: v for k, v in values.items() if v is not None}}
    )
