"""ReadFromKafka: the four input topics as RawBatches, one Beam split per
partition, on kafka-python and Beam's `apache_beam.io.unbounded_source`.

Delivery: at-least-once from Kafka whatever the runner fuses, exactly-once
into the warehouse (loading is idempotent by id). What is durable is what the
raw store holds: every read of a partition is written as one range file named
by the offsets it covers (voc.warehouse.store), and a reader that starts
without a checkpoint (a restarted job) resumes each partition where the
contiguous range files end, not where a finalised checkpoint said. The
consumer group's committed offset is only a floor and a progress report: a
checkpoint's finalisation commits what the store holds durably, never more.

Event time is the Kafka record's timestamp (the producer sets it to the
record's `event_time`). Watermark per partition: the newest timestamp read
minus `max_out_of_order_s`. A partition caught up for `idle_s` (nothing to
read, at its end offset) follows the newest event time read from any
partition of the job instead, minus the same bound, so an idle partition
does not hold back every window and the rule never looks at the wall clock
(DECISIONLOG.md, "Kafka delivery and watermark").

Modes: `bounded` reads up to the end offsets seen when the reader starts and
then finishes (tests, backfills); `until_idle_s` finishes a partition after
that long without a record; `stop_event` (set by SIGINT/SIGTERM) finishes
every reader, so the pipeline drains and commits before it exits.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.io import unbounded_source as beam_unbounded
from apache_beam.io.iobase import RestrictionProgress
from apache_beam.io.unbounded_source import (
    CheckpointMark,
    ReadFromUnboundedSource,
    UnboundedReader,
    UnboundedSource,
)
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Duration, Timestamp
from kafka.errors import KafkaError

from voc.kafka.clients import BrokerUnavailable
from voc.kafka.consume import BatchConsumer, commit
from voc.kafka.topics import stream_of_topic, topic_for
from voc.pipeline.coders import BatchCoder
from voc.pipeline.elements import RawBatch
from voc.warehouse.store import RawStore, kafka_source

log = logging.getLogger(__name__)

# Set by the `voc run` signal handlers; the readers run in this process
# (LOOPBACK environment) and finish when they see it.
STOP = threading.Event()

# Newest record timestamp (ms) read from each partition by the readers of this
# process: an idle partition's watermark follows the newest of them.
_NEWEST_MS: dict[tuple[str, int], int] = {}


@dataclass(frozen=True)
class KafkaReadConfig:
    bootstrap: str
    group_id: str
    streams: tuple[str, ...]
    bounded: bool = False
    until_idle_s: float | None = None
    max_out_of_order_s: float = 600.0
    # Caught up (nothing read, at the end offset) this long: the partition's
    # watermark follows the job's newest (one idle poll; it was 5 s, which
    # held every live stage back that long behind a quiet partition).
    idle_s: float = 1.0
    max_records: int = 2000
    poll_timeout_ms: int = 200
    # A reading bundle ends after this long (Beam's default: 10 s). What it
    # read and the watermark it moved reach the stages after the reader only
    # when it ends, so this bounds how long a live record waits to be stitched.
    bundle_s: float = 10.0
    # ... and after this long when the reader is live (its last poll reached
    # the partition's end): a live stream gets latency, a backlog throughput.
    live_bundle_s: float = 1.0
    # A partition with nothing to read is polled again after this long.
    idle_poll_s: float = 1.0
    # The raw store the job writes: where a restarted reader resumes from.
    store: str | None = None
    # This job instance reads the partitions p with p % instances == instance
    # (several instances of the job share the topics; see DECISIONLOG.md).
    instance: int = 0
    instances: int = 1


def durable_next(config: KafkaReadConfig, topic: str, partition: int, start: int) -> int:
    """Where the raw store's contiguous range files of a partition end, from `start`."""
    if config.store is None:
        return start
    return RawStore(config.store).durable_next(
        str(stream_of_topic(topic)), kafka_source(topic, partition), start
    )


class KafkaCheckpoint(CheckpointMark):
    """The next offset to read in one partition (for the runner to resume this
    reader in the same job). Finalising commits to the consumer group only
    what the raw store holds durably from `durable_from` on."""

    def __init__(
        self,
        config: KafkaReadConfig,
        topic: str,
        partition: int,
        next_offset: int,
        durable_from: int | None = None,
    ):
        self.config = config
        self.topic = topic
        self.partition = partition
        self.next_offset = next_offset
        self.durable_from = durable_from

    def finalize_checkpoint(self) -> None:
        if self.config.store is None:
            upto = self.next_offset
        elif self.durable_from is None:
            return
        else:
            upto = durable_next(self.config, self.topic, self.partition, self.durable_from)
            if upto <= self.durable_from:
                return
        commit(self.config.bootstrap, self.config.group_id, {(self.topic, self.partition): upto})


class KafkaPartitionReader(UnboundedReader):
    def __init__(
        self,
        config: KafkaReadConfig,
        topic: str,
        partition: int,
        start: int | None,
        durable_from: int | None = None,
    ):
        self.config = config
        self.topic = topic
        self.partition = partition
        self.stream = str(stream_of_topic(topic))
        self._buffer: list = []
        self._current = None
        self._next_offset: int | None = start
        # Where finalisations commit the store's contiguous run from: the
        # group's floor when the job started, kept by a reader rebuilt from a
        # checkpoint (from the checkpoint's own offset, a finalisation could
        # commit past an earlier range a sink not fused with the reader has
        # not stored yet).
        self._durable_from: int | None = start if durable_from is None else durable_from
        self._max_ts_ms: int | None = None
        self._last_data = time.monotonic()
        self._end: int | None = None
        self._finished = False
        self._caught_up = False
        # The last poll read up to the partition's end (no backlog behind it).
        self.live = False
        self._consumer: BatchConsumer | None = None

    def start(self) -> bool:
        return self.advance()

    def _connect(self) -> bool:
        """Open the consumer; False while the broker cannot be reached (a
        broker restart is waited out, not turned into a failed bundle)."""
        if self._consumer is not None:
            return True
        tp = (self.topic, self.partition)
        try:
            consumer = BatchConsumer(
                self.config.bootstrap,
                [self.topic],
                self.config.group_id,
                partitions=[tp],
                max_records=self.config.max_records,
                poll_timeout_ms=self.config.poll_timeout_ms,
                start_offsets={tp: self._next_offset} if self._next_offset is not None else None,
            )
            if self._next_offset is None:
                # A fresh start: resume after what the store holds (the group's
                # committed offset never runs ahead of it, so it is a floor).
                committed = consumer.positions()[tp]
                self._next_offset = durable_next(self.config, self.topic, self.partition, committed)
                if self._next_offset != committed:
                    consumer.seek(tp, self._next_offset)
                self._durable_from = committed
            if self.config.bounded and self._end is None:
                self._end = consumer.end_offsets()[tp]
        except (KafkaError, BrokerUnavailable) as exc:
            log.warning(
                "kafka %s/%s: cannot connect (%s); retrying", self.topic, self.partition, exc
            )
            self._last_data = time.monotonic()
            time.sleep(1.0)
            return False
        self._consumer = consumer
        return True

    def advance(self) -> bool:
        if self._finished:
            return False
        if not self._buffer:
            self._fill()
        if not self._buffer:
            return False
        # One element per poll: the whole batch, so that Beam's per-element
        # cost is paid once per poll, not once per record.
        batch, self._buffer = self._buffer, []
        self._current = batch
        self._covers_from = self._next_offset
        self._next_offset = batch[-1].offset + 1
        self._last_data = time.monotonic()
        newest = max(r.timestamp_ms for r in batch)
        self._max_ts_ms = max(self._max_ts_ms or newest, newest)
        key = (self.topic, self.partition)
        _NEWEST_MS[key] = max(_NEWEST_MS.get(key, newest), newest)
        return True

    def _fill(self) -> None:
        if STOP.is_set():
            self._finished = True
            return
        if not self._connect():
            return
        if self._end is not None and self._next_offset >= self._end:
            self._finished = True
            return
        try:
            batches = self._consumer.poll()
        except (KafkaError, BrokerUnavailable) as exc:
            # A broker restart is not "no input": wait and try again, and do
            # not let the idle rules advance the watermark or stop the reader.
            log.warning("kafka %s/%s: %s; retrying", self.topic, self.partition, exc)
            self._caught_up = False
            self._last_data = time.monotonic()
            time.sleep(0.5)
            return
        for batch in batches:
            records = batch.records
            if self._end is not None:
                records = [r for r in records if r.offset < self._end]
            self._buffer.extend(records)
        end = self._consumer.highwater((self.topic, self.partition))
        upto = self._buffer[-1].offset + 1 if self._buffer else self._next_offset
        self.live = end is not None and upto >= end
        if self._buffer:
            self._caught_up = False
            return
        idle = time.monotonic() - self._last_data
        if idle >= self.config.idle_s:
            self._caught_up = self._at_end()
        if self._caught_up and self.config.until_idle_s is not None:
            self._finished = idle >= self.config.until_idle_s

    def _at_end(self) -> bool:
        try:
            return self._next_offset >= self._consumer.end_offsets()[(self.topic, self.partition)]
        except (KafkaError, BrokerUnavailable):
            return False

    def get_current(self) -> RawBatch:
        return RawBatch(
            self.stream,
            kafka_source(self.topic, self.partition),
            [r.offset for r in self._current],
            [r.value for r in self._current],
            timestamps_ms=[r.timestamp_ms for r in self._current],
            covers_from=self._covers_from,
        )

    def get_current_timestamp(self) -> Timestamp:
        return Timestamp(micros=min(r.timestamp_ms for r in self._current) * 1000)

    def get_watermark(self) -> Timestamp:
        if self._finished:
            return MAX_TIMESTAMP
        cfg = self.config
        marks = []
        if self._max_ts_ms is not None:
            marks.append(self._max_ts_ms / 1000 - cfg.max_out_of_order_s)
        if self._caught_up and _NEWEST_MS:
            # Idle: follow the newest event time of the job's other partitions.
            marks.append(max(_NEWEST_MS.values()) / 1000 - cfg.max_out_of_order_s)
        if not marks:
            return Timestamp(0)
        return Timestamp(max(marks))

    def get_checkpoint_mark(self) -> KafkaCheckpoint:
        return KafkaCheckpoint(
            self.config, self.topic, self.partition, self._next_offset, self._durable_from
        )

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


class KafkaPartitionSource(UnboundedSource):
    def __init__(self, config: KafkaReadConfig, topic: str, partition: int):
        self.config = config
        self.topic = topic
        self.partition = partition

    def split(self, desired_num_splits, options=None):
        return [self]

    def create_reader(self, options, checkpoint_mark):
        if checkpoint_mark is None:
            return KafkaPartitionReader(self.config, self.topic, self.partition, None)
        return KafkaPartitionReader(
            self.config,
            self.topic,
            self.partition,
            checkpoint_mark.next_offset,
            checkpoint_mark.durable_from,
        )

    def get_checkpoint_mark_coder(self):
        return PickleCoder()

    def default_output_coder(self):
        return BatchCoder()


def commit_durable(config: KafkaReadConfig) -> dict[tuple[str, int], int]:
    """Commit, for every partition this job instance reads, the offset up to
    which the raw store is durable (after a run: whatever the runner finalised)."""
    from voc.kafka.consume import committed_offsets, end_offsets

    tps = [
        tp
        for tp in sorted(end_offsets(config.bootstrap, [topic_for(s) for s in config.streams]))
        if tp[1] % config.instances == config.instance
    ]
    floor = committed_offsets(config.bootstrap, config.group_id, tps)
    upto = {tp: durable_next(config, tp[0], tp[1], floor.get(tp) or 0) for tp in tps}
    changed = {tp: o for tp, o in upto.items() if o > (floor.get(tp) or 0)}
    if changed:
        commit(config.bootstrap, config.group_id, changed)
    return upto


class KafkaTopicsSource(UnboundedSource):
    """All partitions of the input topics; splits into one source per partition."""

    def __init__(self, config: KafkaReadConfig):
        self.config = config

    def split(self, desired_num_splits, options=None):
        from voc.kafka.consume import end_offsets

        cfg = self.config
        tps = sorted(end_offsets(cfg.bootstrap, [topic_for(s) for s in cfg.streams]))
        counts = {t: sum(1 for tt, _ in tps if tt == t) for t, _ in tps}
        if cfg.instances > 1 and len(set(counts.values())) > 1:
            # Instances split by partition number; a customer's records are in
            # the same partition number of every topic only when the counts match.
            raise ValueError(
                f"--instances {cfg.instances} needs the same partition count on every "
                f"input topic, found {counts}"
            )
        return [
            KafkaPartitionSource(cfg, t, p) for t, p in tps if p % cfg.instances == cfg.instance
        ]

    def create_reader(self, options, checkpoint_mark):
        raise NotImplementedError("KafkaTopicsSource is split into partition sources first")

    def get_checkpoint_mark_coder(self):
        return PickleCoder()

    def default_output_coder(self):
        return BatchCoder()


class _FractionProgressTracker(beam_unbounded._UnboundedSourceRestrictionTracker):
    """Beam's unbounded-source tracker, reporting its progress as a fraction.

    Beam's own reports `completed=0, remaining=1`; the SDK worker replaces
    `completed` with the bytes this bundle has output so far (element count x
    sampled mean size). Its counters restart every bundle but its sampling
    schedule does not (`OperationCounters._next_sample`), so after the first
    long bundle a bundle's first outputs go unsampled, the mean is NaN and so
    is the progress; a split request from the runner (Prism sends one when a
    bundle shows no progress for two ticks, say a slow sink) then fails in
    `_compute_split` with "cannot convert float NaN to integer", the bundle
    fails, and Prism, which does not release a failed bundle's keys, reports
    "nothing in progress and no refreshes with non zero pending elements"
    instead (DECISIONLOG.md, "Kafka delivery and watermark"). A fraction wins
    over the byte count, so progress stays finite: nothing of an unbounded
    restriction is done until it is (fraction 0, then 1)."""

    def current_progress(self) -> RestrictionProgress:
        if self.current_restriction().is_done:
            return RestrictionProgress(fraction=1.0, remaining=0.0)
        return RestrictionProgress(fraction=0.0, remaining=1.0)


class _FractionProgressProvider(beam_unbounded._UnboundedSourceRestrictionProvider):
    def create_tracker(self, restriction):
        return _FractionProgressTracker(restriction)


_PROVIDER = _FractionProgressProvider()


class _SharedReaderCache:
    """One reader cache for every instance of the reading DoFn in a process.

    Beam's DoFn keeps a cache per instance, but the SDK keeps a bundle's
    processor (and its DoFn instance) busy until the runner finalises that
    bundle, so a reader's next bundle usually starts on another instance,
    which finds no parked reader and opens a new consumer (a connection,
    position look-ups, a store listing; DECISIONLOG.md, "Throughput").
    Sharing is safe: an entry is keyed by (source, checkpoint) and taken
    out by the one bundle that resumes it."""

    _lock = threading.Lock()
    _cache: beam_unbounded._ReaderCache | None = None
    _users = 0

    @classmethod
    def acquire(cls) -> beam_unbounded._ReaderCache:
        with cls._lock:
            if cls._cache is None:
                cls._cache = beam_unbounded._ReaderCache()
            cls._users += 1
            return cls._cache

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users > 0 or cls._cache is None:
                return
            cache, cls._cache = cls._cache, None
        cache.close_all()


class _ReadUnboundedFn(beam_unbounded._ReadFromUnboundedSourceDoFn):
    """Beam's reading DoFn, with the tracker above, the process's shared
    reader cache, and a bundle length that adapts: `live_s` after its first
    record when the reader reports `live` (caught up with its partition),
    else Beam's `max_read_time_seconds`. A bundle's records and watermark
    reach the next stages when it ends, so a
    live stream wants short bundles; a backlog wants long ones (each bundle
    end is a checkpoint, a finalisation and a runner round trip)."""

    def __init__(self, poll_interval, max_records_per_bundle, max_read_time_seconds, live_s):
        super().__init__(poll_interval, max_records_per_bundle, max_read_time_seconds)
        self._live_s = live_s

    def setup(self):
        self._reader_cache = _SharedReaderCache.acquire()

    def teardown(self):
        if self._reader_cache is not None:
            self._reader_cache = None
            _SharedReaderCache.release()

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        element,
        bundle_finalizer=beam.DoFn.BundleFinalizerParam,
        tracker=beam.DoFn.RestrictionParam(_PROVIDER),
        watermark_estimator=beam.DoFn.WatermarkEstimatorParam(
            ManualWatermarkEstimator.default_provider()
        ),
    ):
        # Beam's loop (_ReadFromUnboundedSourceDoFn.process), with the bundle's
        # end decided after every record.
        inner = beam_unbounded._unwrap_tracker(tracker)
        if inner is not None and self._reader_cache is not None:
            inner._reader_cache = self._reader_cache
        initial = tracker.current_restriction()
        now = self._now or time.monotonic
        emitted, first_at = 0, None
        try:
            while True:
                holder = [None]
                if not tracker.try_claim(holder):
                    beam_unbounded._set_watermark_if_greater(
                        watermark_estimator, tracker.current_restriction().watermark
                    )
                    break
                record = holder[0]
                if record is beam_unbounded._NO_DATA:
                    beam_unbounded._set_watermark_if_greater(
                        watermark_estimator, tracker.current_restriction().watermark
                    )
                    tracker.defer_remainder(Duration(seconds=self._poll_interval))
                    break
                value, timestamp, watermark = record
                yield TimestampedValue(value, timestamp)
                beam_unbounded._set_watermark_if_greater(watermark_estimator, watermark)
                emitted += 1
                first_at = first_at if first_at is not None else now()
                live = inner is not None and getattr(inner._reader, "live", False)
                limit = self._live_s if live else self._max_read_time_seconds
                if emitted >= self._max_records_per_bundle or now() - first_at >= limit:
                    tracker.defer_remainder()
                    break
        finally:
            current = tracker.current_restriction()
            try:
                mark = current.finalization_checkpoint_mark
                if current is not initial and mark is not None:
                    bundle_finalizer.register(beam_unbounded._FinalizeCheckpointOnce(mark))
            finally:
                if inner is not None:
                    inner._close_reader_if_open()


class ReadUnbounded(ReadFromUnboundedSource):
    """`ReadFromUnboundedSource` whose split requests cannot fail on NaN
    progress (`_FractionProgressTracker`) and whose reading bundles end
    after `live_read_time_seconds` while the reader is live."""

    def __init__(self, source, *, live_read_time_seconds: float | None = None, **kwargs):
        super().__init__(source, **kwargs)
        self._live_s = live_read_time_seconds or self._max_read_time_seconds

    def expand(self, pbegin):
        return (
            pbegin
            | "Create" >> beam.Create([self._source])
            | "ReadUnbounded"
            >> beam.ParDo(
                _ReadUnboundedFn(
                    self._poll_interval,
                    self._max_records_per_bundle,
                    self._max_read_time_seconds,
                    self._live_s,
                )
            )
        )


class ReadFromKafka(beam.PTransform):
    """-> RawBatch per poll of one partition, timestamped with the
    oldest record timestamp in it."""

    def __init__(self, config: KafkaReadConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, pbegin):
        cfg = self.config
        return pbegin | "ReadPartitions" >> ReadUnbounded(
            KafkaTopicsSource(cfg),
            poll_interval=cfg.idle_poll_s,
            max_read_time_seconds=cfg.bundle_s,
            live_read_time_seconds=cfg.live_bundle_s,
        )
