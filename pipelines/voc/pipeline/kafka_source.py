"""ReadFromKafka: the four input topics as RawBatches, one Beam split per
partition, on kafka-python and Beam's `apache_beam.io.unbounded_source`.

Delivery: at-least-once from Kafka, exactly-once into the warehouse (every
sink is idempotent by id). Offsets are committed to the consumer group only
when the runner finalises a checkpoint, i.e. after the bundle that read the
records - and the raw-table sinks fused into it - has completed; a crash
before that re-reads them.

Event time is the Kafka record's timestamp (the producer sets it to the
record's `event_time`). Watermark per partition: the newest timestamp read
minus `max_out_of_order_s`; when the partition has been caught up for
`idle_s`, the watermark also advances with the wall clock (`now - idle_s`),
so that an idle partition does not hold back every window (DECISIONLOG.md,
"Kafka watermark").

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
from apache_beam.io.unbounded_source import (
    CheckpointMark,
    ReadFromUnboundedSource,
    UnboundedReader,
    UnboundedSource,
)
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Timestamp
from kafka.errors import KafkaError

from voc.kafka.clients import BrokerUnavailable
from voc.kafka.consume import BatchConsumer, commit
from voc.kafka.topics import stream_of_topic, topic_for
from voc.pipeline.coders import BatchCoder
from voc.pipeline.elements import RawBatch

log = logging.getLogger(__name__)

# Set by the `voc run` signal handlers; the readers run in this process
# (LOOPBACK environment) and finish when they see it.
STOP = threading.Event()


@dataclass(frozen=True)
class KafkaReadConfig:
    bootstrap: str
    group_id: str
    streams: tuple[str, ...]
    bounded: bool = False
    until_idle_s: float | None = None
    max_out_of_order_s: float = 600.0
    idle_s: float = 5.0
    max_records: int = 2000
    poll_timeout_ms: int = 200


class KafkaCheckpoint(CheckpointMark):
    """The next offset to read in one partition; finalising commits it."""

    def __init__(self, config: KafkaReadConfig, topic: str, partition: int, next_offset: int):
        self.config = config
        self.topic = topic
        self.partition = partition
        self.next_offset = next_offset

    def finalize_checkpoint(self) -> None:
        commit(
            self.config.bootstrap,
            self.config.group_id,
            {(self.topic, self.partition): self.next_offset},
        )


class KafkaPartitionReader(UnboundedReader):
    def __init__(self, config: KafkaReadConfig, topic: str, partition: int, start: int | None):
        self.config = config
        self.topic = topic
        self.partition = partition
        self.stream = str(stream_of_topic(topic))
        self._buffer: list = []
        self._current = None
        self._next_offset: int | None = start
        self._max_ts_ms: int | None = None
        self._last_data = time.monotonic()
        self._end: int | None = None
        self._finished = False
        self._caught_up = False
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
                self._next_offset = consumer.positions()[tp]
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
        self._next_offset = batch[-1].offset + 1
        self._last_data = time.monotonic()
        newest = max(r.timestamp_ms for r in batch)
        self._max_ts_ms = max(self._max_ts_ms or newest, newest)
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
            f"{self.topic}/{self.partition}/",
            [r.offset for r in self._current],
            [r.value for r in self._current],
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
        if self._caught_up:
            marks.append(time.time() - cfg.idle_s)
        if not marks:
            return Timestamp(0)
        return Timestamp(max(marks))

    def get_checkpoint_mark(self) -> KafkaCheckpoint:
        return KafkaCheckpoint(self.config, self.topic, self.partition, self._next_offset)

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
        start = checkpoint_mark.next_offset if checkpoint_mark is not None else None
        return KafkaPartitionReader(self.config, self.topic, self.partition, start)

    def get_checkpoint_mark_coder(self):
        return PickleCoder()

    def default_output_coder(self):
        return BatchCoder()


class KafkaTopicsSource(UnboundedSource):
    """All partitions of the input topics; splits into one source per partition."""

    def __init__(self, config: KafkaReadConfig):
        self.config = config

    def split(self, desired_num_splits, options=None):
        from voc.kafka.consume import end_offsets

        tps = sorted(
            end_offsets(self.config.bootstrap, [topic_for(s) for s in self.config.streams])
        )
        return [KafkaPartitionSource(self.config, t, p) for t, p in tps]

    def create_reader(self, options, checkpoint_mark):
        raise NotImplementedError("KafkaTopicsSource is split into partition sources first")

    def get_checkpoint_mark_coder(self):
        return PickleCoder()

    def default_output_coder(self):
        return BatchCoder()


class ReadFromKafka(beam.PTransform):
    """-> RawBatch per poll of one partition, timestamped with the
    oldest record timestamp in it."""

    def __init__(self, config: KafkaReadConfig) -> None:
        super().__init__()
        self.config = config

    def expand(self, pbegin):
        return pbegin | "ReadPartitions" >> ReadFromUnboundedSource(KafkaTopicsSource(self.config))
