"""The VOC Loop Beam job. This module wires the stages and nothing else:
reading it tells the whole data flow.

    raw records ─ ValidateEvents ─┬─ dead letters ───────────────────────► raw.dead_letters
                                  ├─ valid records per stream ───────────► raw.<stream>
                                  └─ ExtractContacts ─ StitchJourneys (+ app events)
                                        ─ TagRootCause ─┬────────────────► raw.contacts
                                                        └─ DetectBreakpoints ► raw.alerts
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam

from voc.catalog import load_catalog
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.detect.spike import SpikeParams
from voc.pipeline.contacts import ExtractContacts
from voc.pipeline.detect import DetectBreakpoints
from voc.pipeline.options import VocOptions
from voc.pipeline.read import ReadStreamFiles
from voc.pipeline.sink import WriteToWarehouse
from voc.pipeline.stitch import StitchJourneys
from voc.pipeline.tag import TagRootCause
from voc.pipeline.validate import ValidateEvents


def build_pipeline(p: beam.Pipeline, opts: VocOptions, source: beam.PTransform | None = None):
    """Add the whole job to `p`. `source` emits RawRecords; default: the stream files."""
    catalog = load_catalog(opts.catalog)
    warehouse, batch = opts.warehouse, opts.batch_size

    raw = p | "Read" >> (source or ReadStreamFiles(opts.input_dir))
    # RawRecord
    checked = raw | "ValidateEvents" >> ValidateEvents()
    # valid: ValidRecord (event time) | dead_letters: dead-letter dict
    per_stream = checked.valid | "SplitByStream" >> beam.Partition(
        lambda v, _: INPUT_STREAMS.index(Stream(v.stream)), len(INPUT_STREAMS)
    )
    for stream, records in zip(INPUT_STREAMS, per_stream, strict=True):
        _ = (
            records
            | f"Record{stream.title()}" >> beam.Map(lambda v: v.record)
            | f"Store{stream.title()}" >> WriteToWarehouse(str(stream), warehouse, batch)
        )
    contacts = checked.valid | "ExtractContacts" >> ExtractContacts()
    # Contact
    stitched = (
        per_stream[INPUT_STREAMS.index(Stream.APP_EVENTS)],
        contacts,
    ) | "StitchJourneys" >> StitchJourneys(opts.lookback_s, opts.recent_n)
    # StitchedContact
    tagged = stitched | "TagRootCause" >> TagRootCause(opts.catalog, opts.tag_model, batch)
    # tagged-contact dict
    alerts = tagged | "DetectBreakpoints" >> DetectBreakpoints(
        SpikeParams(window_s=opts.window_s),
        stage_of={s.id: s.stage for s in catalog.scenarios},
        owner_of={s.id: s.owner for s in catalog.scenarios},
        allowed_lateness_s=opts.allowed_lateness_s,
    )
    # alert dict
    _ = tagged | "StoreContacts" >> WriteToWarehouse("contacts", warehouse, batch)
    _ = alerts | "StoreAlerts" >> WriteToWarehouse("alerts", warehouse, batch)
    _ = checked.dead_letters | "StoreDeadLetters" >> WriteToWarehouse(
        "dead_letters", warehouse, batch
    )


@dataclass
class RunResult:
    counters: dict[str, int]


def run(opts: VocOptions, source: beam.PTransform | None = None) -> RunResult:
    """Run the job to completion on this machine and return its Beam counters."""
    from voc.warehouse.catalog_tables import load_catalog_tables
    from voc.warehouse.duck import close_shared, open_warehouse

    con = open_warehouse(opts.warehouse)
    try:
        load_catalog_tables(con, load_catalog(opts.catalog))
    finally:
        con.close()
    try:
        with beam.Pipeline(options=opts) as p:
            build_pipeline(p, opts, source)
        result = p.result
    finally:
        close_shared()
    counters = {
        f"{c.key.metric.namespace}.{c.key.metric.name}": c.committed
        for c in result.metrics().query()["counters"]
    }
    return RunResult(counters)


def embedded_options(**values) -> VocOptions:
    """Options for the embedded mode: the local runner, one worker process."""
    base = {"runner": "DirectRunner", "direct_num_workers": 1, "direct_running_mode": "in_memory"}
    return VocOptions.from_dictionary(
        {**base, **{k: v for k, v in values.items() if v is not None}}
    )
