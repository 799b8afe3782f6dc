"""The VOC Loop Beam job. This module wires the stages and nothing else:
reading it tells the whole data flow.

    raw records ─ ValidateEvents ─┬─ rows + dead letters of each read ─► store <stream>/
                                  └─ ExtractContacts ─ StitchJourneys (+ stored app_events files)
                                        ─ TagRootCause ─┬────────────────► store contacts/
              app events, social posts, tagged contacts ─ DetectBreakpoints ► store alerts/

The job writes only the raw store (append-only Parquet, voc.warehouse.store);
the process that launches it loads the store into the DuckDB warehouse's
`raw.*` tables (voc.warehouse.load), before, during and after the run.
A streaming (Kafka) run has no DetectBreakpoints stage: that process judges
breakpoints from the stored rows instead (voc.warehouse.detect), so a
restarted job or a second instance neither splits nor repeats them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions

from voc.catalog import load_catalog
from voc.contracts.streams import INPUT_STREAMS, Stream
from voc.contracts.validate import EdgeRules, to_micros
from voc.detect.engine import DetectCatalog, EngineParams
from voc.pipeline.contacts import ExtractContacts
from voc.pipeline.detect import DetectBreakpoints
from voc.pipeline.options import VocOptions, raw_store_of
from voc.pipeline.read import ReadStreamFiles, stream_start_s
from voc.pipeline.recover import ReadRecovered, Recovered, remove_snapshots, snapshot_path
from voc.pipeline.sink import WriteRanges, WriteRows
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
    before_store: beam.PTransform | None = None,
    detect: bool = True,
    journey_topic: tuple[str, str] | None = None,
    max_out_of_order_s: float = 600.0,
):
    """Add the whole job to `p`. `source` emits RawBatch elements (default:
    the stream files); `recovered` is state read back from the warehouse after a restart;
    `before_store` (tests) is put between validation and the raw-store sinks,
    e.g. a Reshuffle that breaks fusion. `journey_topic` (bootstrap, topic of
    the journey events): stitching asks the store and that topic's partitions
    when a contact's journey is complete (StitchShardFn). Without `detect`, the job stores
    contacts and no alerts: a streaming run judges breakpoints from the
    warehouse (voc.warehouse.detect), where restarts and several instances
    cannot split or repeat them."""
    catalog = load_catalog(opts.catalog)
    store, batch = raw_store_of(opts), opts.batch_size
    recovered = recovered or Recovered()
    bounded = not opts.view_as(StandardOptions).streaming
    # A streaming run commits its offsets past what it stored, so what it
    # stores must survive a power cut; a file run can always read its files again.
    fsync = not bounded

    raw = p | "Read" >> (source or ReadStreamFiles(opts.input_dir, batch))
    # RawBatch: a file chunk or a Kafka poll
    checked = raw | "ValidateEvents" >> ValidateEvents(*edge_settings(opts))
    # contact_records: list[ValidRecord] | <stream>: StoreBatch | dead_letters: list[dict]
    stored = {}
    for stream in INPUT_STREAMS:
        reads = checked[str(stream)]
        if before_store is not None:
            reads = reads | f"BeforeStore{stream.title()}" >> before_store
        stored[stream] = reads | f"Store{stream.title()}" >> WriteRanges(store, fsync=fsync)
    # (stream, rows stored) per read, once its range file is durable
    snapshot = snapshot_path(store)
    replayed = p | "RecoveredRecords" >> ReadRecovered(recovered, "records", snapshot)
    # list[ValidRecord] read back from the warehouse: contacts that never came out tagged
    contacts = checked.contact_records | "ExtractContacts" >> ExtractContacts()
    recovered_contacts = replayed | "ExtractRecoveredContacts" >> ExtractContacts()
    # list[Contact]
    stitched = (
        stored[Stream.APP_EVENTS],
        contacts,
        recovered_contacts,
    ) | "StitchJourneys" >> StitchJourneys(
        store,
        opts.lookback_s,
        opts.recent_n,
        opts.shards,
        bounded=bounded,
        journey_topic=journey_topic,
        max_out_of_order_s=max_out_of_order_s,
    )
    # list[StitchedContact], journeys read from the store's app_events files
    tagged = stitched | "TagRootCause" >> TagRootCause(
        opts.catalog, opts.tag_model, opts.tag_labels
    )
    # list of tagged-contact dicts
    _ = tagged | "StoreContacts" >> WriteRows("contacts", store, batched=True, fsync=fsync)
    if not detect:
        return
    alerts = (
        tagged,
        checked[str(Stream.APP_EVENTS)],
        checked[str(Stream.SOCIAL_POSTS)],
    ) | "DetectBreakpoints" >> DetectBreakpoints(catalog, EngineParams(), bounded=bounded)
    # alert dict (schemas/alert.schema.json)
    _ = alerts | "StoreAlerts" >> WriteRows("alerts", store, batch, fsync=fsync)


def edge_settings(opts: VocOptions) -> tuple[str, EdgeRules, int]:
    """The PII key (hex), the edge's limits and the files' reference time (µs)
    from the options. The key, when not given, is the warehouse's own key file
    (voc.privacy.keys); the reference time, when not given, is now."""
    from voc.privacy.keys import resolve_key

    if opts.pii_key is None:
        opts.pii_key = resolve_key(opts.warehouse)
    rules = EdgeRules(
        max_record_bytes=opts.max_record_bytes,
        max_excerpt_bytes=opts.max_excerpt_bytes,
        event_horizon_s=opts.event_horizon_s,
        event_skew_s=opts.event_skew_s,
    )
    if opts.reference_time:
        reference_us = to_micros(opts.reference_time.replace("Z", "+00:00"))
    else:
        reference_us = time.time_ns() // 1000
    return opts.pii_key, rules, reference_us


@dataclass
class RunResult:
    counters: dict[str, int]
    recovered: int = 0
    reconciled: int = 0
    # rows the run added to each warehouse table (loaded from the store)
    inserted: dict[str, int] = field(default_factory=dict)


def load_warehouse(
    opts: VocOptions,
    *,
    catalog: bool = False,
    publish_to: str | None = None,
    wait_s: float = 120,
    detector=None,
    detect_wait_s: float = 0,
):
    """Load the raw store into the warehouse file (and the catalog tables);
    with `detector` (voc.warehouse.detect), judge what is stored as at the end
    of the input, waiting up to `detect_wait_s` for other job instances to
    store their partitions to the end; with `publish_to`, publish the stored
    alerts and dead letters not yet published, waiting up to `wait_s` for a
    broker that is away."""
    from voc.warehouse.catalog_tables import load_catalog_tables
    from voc.warehouse.duck import open_warehouse
    from voc.warehouse.load import load_store
    from voc.warehouse.publish import PUBLISH_ERRORS, make_producer, publish_stored
    from voc.warehouse.store import RawStore, remove_tmp

    store = RawStore(raw_store_of(opts))
    con = open_warehouse(opts.warehouse)
    try:
        if catalog:
            load_catalog_tables(con, load_catalog(opts.catalog))
        remove_tmp(store)
        report = load_store(con, store)
        if detector is not None:
            finish_detection(con, store, detector, detect_wait_s)
        deadline = time.monotonic() + wait_s
        while publish_to:
            try:
                producer = make_producer(publish_to)
                try:
                    publish_stored(con, producer)
                finally:
                    producer.close()
                break
            except PUBLISH_ERRORS:
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)
        return report
    finally:
        con.close()


def finish_detection(con, store, detector, wait_s: float) -> None:
    """Judge every stored step as at the end of the input; with several job
    instances, wait up to `wait_s` until the others have stored their
    partitions to the end (else the rest is judged by a later run)."""
    import logging

    from voc.warehouse.load import load_store

    deadline = time.monotonic() + wait_s
    while True:
        judged = detector.run(con, final=True, load=lambda: load_store(con, store))
        if judged.complete or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    if not judged.complete:
        logging.getLogger(__name__).warning(
            "breakpoints judged up to %s only: waiting for %s",
            judged.judged_until_s,
            judged.waiting_for,
        )


def run(
    opts: VocOptions,
    source: beam.PTransform | None = None,
    before_store: beam.PTransform | None = None,
) -> RunResult:
    """Run the job to completion on this machine, load what it stored into the
    warehouse, and return its Beam counters."""
    load_warehouse(opts, catalog=True)
    if source is None and opts.detect_origin_s is None:
        opts.detect_origin_s = stream_start_s(opts.input_dir)
    try:
        with beam.Pipeline(options=opts) as p:
            build_pipeline(p, opts, source, before_store=before_store)
        result = p.result
    finally:
        remove_snapshots(raw_store_of(opts))
    loaded = load_warehouse(opts)
    return RunResult(_counters(result), inserted=loaded.inserted)


def run_streaming(
    opts: VocOptions,
    kafka: KafkaReadConfig,
    *,
    publish: bool = True,
    before_store: beam.PTransform | None = None,
    load_interval_s: float = 5.0,
    after_load=None,
) -> RunResult:
    """Run the job on Kafka with the streaming Prism runner until the readers
    finish (bounded mode, --until-idle, or SIGINT/SIGTERM), after loading what
    the store already holds and recovering state from the warehouse. The store
    is loaded into the warehouse every `load_interval_s` while the job runs;
    `after_load(con)` then runs on the loader's connection (StoreLoader)."""
    import contextlib
    import dataclasses

    from voc.kafka.topics import topic_for
    from voc.pipeline.kafka_source import ReadFromKafka, commit_durable
    from voc.pipeline.recover import recover
    from voc.warehouse.load import StoreLoader
    from voc.warehouse.store import RawStore

    store = raw_store_of(opts)
    kafka = dataclasses.replace(kafka, store=store)
    # One process writes the DuckDB file: with several job instances sharing
    # the topics and the store, instance 0 loads it; the others only append.
    loads = kafka.instance == 0
    if loads:
        load_warehouse(opts, catalog=True)
    recovered = recover(store, instance=kafka.instance, instances=kafka.instances)
    publish_to = kafka.bootstrap if publish and loads else None
    # Instance 0 judges breakpoints from the warehouse, for all instances.
    detector = stored_detector(opts, kafka) if loads else None
    loader = StoreLoader(
        opts.warehouse,
        RawStore(store),
        load_interval_s,
        publish_to,
        after_load=after_load,
        detector=detector,
        # one poll's worth behind the end: the job keeps up (rounds follow files)
        live_backlog=kafka.max_records,
    )
    with bound_listeners(opts):
        p = beam.Pipeline(options=opts)
        build_pipeline(
            p,
            opts,
            ReadFromKafka(kafka),
            recovered,
            before_store=before_store,
            detect=False,
            journey_topic=(kafka.bootstrap, topic_for(Stream.APP_EVENTS)),
            max_out_of_order_s=kafka.max_out_of_order_s,
        )
        try:
            with loader if loads else contextlib.nullcontext():
                with _keep_drain_handler():
                    result = p.run()
                result.wait_until_finish()
            if loader.error is not None:
                raise loader.error
        finally:
            remove_snapshots(store)
    if loads:
        load_warehouse(opts)
    commit_durable(kafka)
    reconciled = reconcile(opts, load=loads, instance=kafka.instance, instances=kafka.instances)
    if loads:
        load_warehouse(
            opts,
            publish_to=publish_to,
            detector=detector,
            detect_wait_s=DETECT_WAIT_S if kafka.instances > 1 else 0,
        )
        detector.bounds.close()
    return RunResult(_counters(result), recovered=len(recovered.records), reconciled=reconciled)


@contextlib.contextmanager
def _keep_drain_handler() -> Iterator[None]:
    """Keep the SIGINT handler `voc run` installed (drain: readers stop, the
    rest flushes and commits). Beam's job-server wrapper (StopOnExitJobServer)
    installs its own when the job starts, which stops Prism before calling
    ours, so Ctrl-C killed the runner under a draining job.

    While the job starts, SIGINT is ignored, so the Prism process started
    meanwhile inherits it ignored: a terminal's Ctrl-C goes to the whole
    process group, and Prism (a Go program with no handler of its own) died
    of it under the draining job. (A Ctrl-C during those seconds is lost.)"""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    keep = callable(before) and before is not signal.default_int_handler
    if keep:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if keep:
            signal.signal(signal.SIGINT, before)


# How long instance 0, its input drained, waits for the other instances to
# store their partitions before it judges the last steps.
DETECT_WAIT_S = 600.0


def stored_detector(opts: VocOptions, kafka: KafkaReadConfig):
    """The breakpoint detector of a streaming run: the warehouse's stored rows,
    judged once every partition of the topics is stored past them."""
    from voc.warehouse.detect import KafkaBounds, StoredDetector

    return StoredDetector(
        DetectCatalog.of(load_catalog(opts.catalog)),
        KafkaBounds(kafka.bootstrap, kafka.group_id),
        EngineParams(),
        max_out_of_order_s=kafka.max_out_of_order_s,
    )


@contextlib.contextmanager
def bound_listeners(opts: VocOptions) -> Iterator[None]:
    """Make what a Prism run listens on listen on `--bind_host` only (README
    "Security"): the LOOPBACK worker pool becomes the same in-process pool
    bound to that host, and Prism - built by `ensure_prism` with a bind
    address - is told the host in PRISM_BIND_HOST (it reads no other setting)."""
    from apache_beam.options.pipeline_options import PortableOptions

    from voc.pipeline.runners import local_worker_pool

    portable = opts.view_as(PortableOptions)
    if portable.environment_type != "LOOPBACK":
        yield
        return
    before = os.environ.get("PRISM_BIND_HOST")
    os.environ["PRISM_BIND_HOST"] = opts.bind_host
    try:
        with local_worker_pool(opts, opts.bind_host) as address:
            portable.environment_type = "EXTERNAL"
            portable.environment_config = address
            try:
                yield
            finally:
                portable.environment_type = "LOOPBACK"
                portable.environment_config = None
    finally:
        if before is None:
            os.environ.pop("PRISM_BIND_HOST", None)
        else:
            os.environ["PRISM_BIND_HOST"] = before


def reconcile(
    opts: VocOptions,
    publish_to: str | None = None,
    *,
    load: bool = True,
    instance: int = 0,
    instances: int = 1,
) -> int:
    """Stitch and tag, in a short batch run, any contact record that is in the
    raw tables but not in raw.contacts; return how many there were.

    A drained streaming run should leave none. One can remain when the runner
    drops a timer (Prism splitting a bundle that holds timers, apache/beam
    issue 35771, seen here after a broker restart); the raw tables are the
    durable truth, so the gap is closed from them rather than left."""
    from voc.pipeline.recover import recover

    missing = recover(raw_store_of(opts), instance=instance, instances=instances)
    if not missing.records:
        return 0
    batch_opts = embedded_options(
        warehouse=opts.warehouse,
        catalog=opts.catalog,
        tag_model=opts.tag_model,
        tag_labels=opts.tag_labels,
        window_s=opts.window_s,
        lookback_s=opts.lookback_s,
        recent_n=opts.recent_n,
        raw_store=raw_store_of(opts),
    )
    try:
        with beam.Pipeline(options=batch_opts) as p:
            build_pipeline(
                p, batch_opts, beam.Create([]), Recovered(records=missing.records), detect=False
            )
    finally:
        remove_snapshots(raw_store_of(batch_opts))
    if load:
        load_warehouse(batch_opts, publish_to=publish_to)
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
    """Options for the embedded mode: the local runner, one worker process.

    The FnApiRunner by name: Beam's DirectRunner tries Prism first, which
    (without our binary's location) downloads a Prism release at run time,
    and here, offline, fails and falls back to this runner on every run."""
    base = {"runner": "FnApiRunner", "direct_num_workers": 1, "direct_running_mode": "in_memory"}
    return VocOptions.from_dictionary(
        {**base, **{k: v for k, v in values.items() if v is not None}}
    )
