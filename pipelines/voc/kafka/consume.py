"""Read Kafka topics in per-partition batches, committing offsets only when told.

Made for the pipeline's Kafka source: a Beam reader owns a `BatchConsumer`
for its split's partitions, hands each batch downstream, and commits the next
offsets when the runner finalises the checkpoint that covers them (so a crash
before that re-reads the records: at-least-once).

The consumer *assigns* partitions itself instead of joining a consumer-group
rebalance: Beam decides which split reads which partition, and a rebalance
would move partitions under a reader's feet. The group id still names where
the offsets are committed, so `commit` works from any process that uses the
same group id (a checkpoint may be finalised by another worker).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import kafka.errors
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from voc.kafka.clients import CLIENT_ID, BrokerUnavailable, short_timeouts

TP = tuple[str, int]  # (topic, partition)


class Record(NamedTuple):
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive records of one partition, in offset order."""

    topic: str
    partition: int
    records: list[Record]

    @property
    def next_offset(self) -> int:
        """The offset to commit once this batch is processed."""
        return self.records[-1].offset + 1


@dataclass(frozen=True, slots=True)
class ConsumeRate:
    records: int
    seconds: float
    events_per_s: float


class BatchConsumer:
    """A kafka-python consumer over all partitions of `topics` (or the given
    `partitions`), starting at `start_offsets` where given (a checkpoint being
    resumed), else at the group's committed offsets, else at the earliest
    (`start="earliest"`) or latest one. Auto-commit is off."""

    def __init__(
        self,
        bootstrap: str,
        topics: Iterable[str],
        group_id: str,
        *,
        partitions: Iterable[TP] | None = None,
        max_records: int = 5000,
        poll_timeout_ms: int = 500,
        start: str = "earliest",
        start_offsets: Mapping[TP, int] | None = None,
        timeout_s: float = 10,
    ) -> None:
        if start not in ("earliest", "latest"):
            raise ValueError("start must be 'earliest' or 'latest'")
        self.group_id = group_id
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                client_id=CLIENT_ID,
                group_id=group_id,
                enable_auto_commit=False,
                auto_offset_reset=start,
                max_poll_records=max_records,
                # Larger fetches than the defaults: fewer round trips per batch.
                max_partition_fetch_bytes=8 * 1024 * 1024,
                fetch_max_bytes=64 * 1024 * 1024,
                **short_timeouts(timeout_s),
            )
        except (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError) as exc:
            raise BrokerUnavailable(f"no Kafka broker answered at {bootstrap}: {exc}") from None
        if partitions is None:
            tps = []
            for topic in topics:
                ids = self._partitions_for(topic, timeout_s)
                tps.extend(TopicPartition(topic, p) for p in sorted(ids))
        else:
            tps = [TopicPartition(t, p) for t, p in partitions]
        self._tps = tps
        self._consumer.assign(tps)
        for (topic, partition), offset in (start_offsets or {}).items():
            self._consumer.seek(TopicPartition(topic, partition), offset)

    def _partitions_for(self, topic: str, timeout_s: float) -> set[int]:
        deadline = time.monotonic() + timeout_s
        while True:
            ids = self._consumer.partitions_for_topic(topic)
            if ids:
                return ids
            if time.monotonic() > deadline:
                raise ValueError(f"topic {topic} does not exist (or has no partitions)")
            time.sleep(0.1)

    # -- reading ---------------------------------------------------------------

    @property
    def partitions(self) -> list[TP]:
        return [(tp.topic, tp.partition) for tp in self._tps]

    def end_offsets(self) -> dict[TP, int]:
        """The offset after the last record of each partition, now."""
        ends = self._consumer.end_offsets(self._tps)
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}

    def highwater(self, tp: TP) -> int | None:
        """The partition's end offset as the last fetch saw it (no request),
        None before any fetch."""
        return self._consumer.highwater(TopicPartition(*tp))

    def positions(self) -> dict[TP, int]:
        """The offset of the next record each partition will return."""
        return {(tp.topic, tp.partition): self._consumer.position(tp) for tp in self._tps}

    def seek(self, tp: TP, offset: int) -> None:
        """Read `tp` from `offset` on."""
        self._consumer.seek(TopicPartition(*tp), offset)

    def poll(self) -> list[Batch]:
        """One fetch: up to `max_records` records, grouped by partition."""
        polled = self._consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
        return [
            Batch(
                tp.topic,
                tp.partition,
                [Record(m.offset, m.timestamp, m.key, m.value) for m in msgs],
            )
            for tp, msgs in polled.items()
            if msgs
        ]

    def read_batches(
        self, *, until: Mapping[TP, int] | None = None, idle_timeout_s: float | None = None
    ) -> Iterator[Batch]:
        """Yield batches. Bounded when `until` is given (e.g. `end_offsets()` taken
        at the start): stops once every partition reached its offset there, and
        trims records past it. Otherwise unbounded, or until no record came for
        `idle_timeout_s`."""
        remaining = dict(until) if until is not None else None
        if remaining is not None:
            for tp, pos in self.positions().items():
                if remaining.get(tp, 0) <= pos:
                    remaining.pop(tp, None)
            paused = [TopicPartition(*tp) for tp in self.partitions if tp not in remaining]
            if paused:
                self._consumer.pause(*paused)
        last_data = time.monotonic()
        while remaining is None or remaining:
            batches = self.poll()
            if batches:
                last_data = time.monotonic()
            elif idle_timeout_s is not None and time.monotonic() - last_data > idle_timeout_s:
                return
            for batch in batches:
                tp = (batch.topic, batch.partition)
                if remaining is not None:
                    if tp not in remaining:
                        continue
                    end = remaining[tp]
                    records = [r for r in batch.records if r.offset < end]
                    if batch.next_offset >= end:
                        del remaining[tp]
                        self._consumer.pause(TopicPartition(*tp))
                    if not records:
                        continue
                    batch = Batch(batch.topic, batch.partition, records)
                yield batch

    # -- committing --------------------------------------------------------------

    def commit(self, offsets: Mapping[TP, int]) -> None:
        """Commit `{(topic, partition): next_offset}` for this consumer's group."""
        if offsets:
            self._consumer.commit(_to_kafka_offsets(offsets))

    def committed(self) -> dict[TP, int | None]:
        return {(tp.topic, tp.partition): self._consumer.committed(tp) for tp in self._tps}

    def close(self) -> None:
        self._consumer.close(autocommit=False)

    def __enter__(self) -> BatchConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_batches(
    bootstrap: str,
    topics: Iterable[str],
    group_id: str,
    *,
    max_records: int = 5000,
    poll_timeout_ms: int = 500,
    bounded: bool = False,
    idle_timeout_s: float | None = None,
    start_offsets: Mapping[TP, int] | None = None,
) -> Iterator[Batch]:
    """Batches from `start_offsets` (else the group's committed offsets, else the
    earliest) on, committing nothing (use `commit` or a `BatchConsumer` for
    that). `bounded`: stop at the end offsets seen when reading starts."""
    with BatchConsumer(
        bootstrap,
        topics,
        group_id,
        max_records=max_records,
        poll_timeout_ms=poll_timeout_ms,
        start_offsets=start_offsets,
    ) as consumer:
        until = consumer.end_offsets() if bounded else None
        yield from consumer.read_batches(until=until, idle_timeout_s=idle_timeout_s)


# One committing client per (bootstrap, group) in a process, reused: a
# checkpoint is finalised per reading bundle and partition (about ten a second
# for a live job), and a new client per commit costs a connection, metadata and
# a coordinator lookup each time.
_COMMITTERS: dict[tuple[str, str], KafkaConsumer] = {}
_COMMIT_LOCK = threading.Lock()


def commit(
    bootstrap: str, group_id: str, offsets: Mapping[TP, int], *, timeout_s: float = 10
) -> None:
    """Commit `{(topic, partition): next_offset}` for `group_id` from a client
    of its own (e.g. when a checkpoint is finalised away from the reader); a
    client that failed is closed and the next commit opens another."""
    if not offsets:
        return
    key = (bootstrap, group_id)
    with _COMMIT_LOCK:
        consumer = _COMMITTERS.get(key)
        if consumer is None:
            try:
                consumer = KafkaConsumer(
                    bootstrap_servers=bootstrap,
                    client_id=CLIENT_ID,
                    group_id=group_id,
                    enable_auto_commit=False,
                    **short_timeouts(timeout_s),
                )
            except (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError) as exc:
                raise BrokerUnavailable(f"no Kafka broker answered at {bootstrap}: {exc}") from None
            _COMMITTERS[key] = consumer
        try:
            consumer.commit(_to_kafka_offsets(offsets))
        except BaseException:
            del _COMMITTERS[key]
            consumer.close(autocommit=False)
            raise


def end_offsets(bootstrap: str, topics: Iterable[str], *, timeout_s: float = 10) -> dict[TP, int]:
    """The offset after the last record of every partition of `topics`, now."""
    with BatchConsumer(
        bootstrap, topics, f"voc-end-offsets-{uuid.uuid4().hex[:8]}", timeout_s=timeout_s
    ) as consumer:
        return consumer.end_offsets()


def committed_offsets(
    bootstrap: str, group_id: str, partitions: Iterable[TP], *, timeout_s: float = 10
) -> dict[TP, int | None]:
    """The group's committed offset of each partition (None where it has none)."""
    tps = list(partitions)
    if not tps:
        return {}
    with BatchConsumer(bootstrap, [], group_id, partitions=tps, timeout_s=timeout_s) as consumer:
        return consumer.committed()


def raw_consume(bootstrap: str, topic: str, *, timeout_s: float = 300) -> ConsumeRate:
    """Read `topic` from the beginning to its current end with a fresh group, as
    fast as kafka-python goes, doing nothing with the records: the ceiling any
    Kafka-fed pipeline stage in Python can reach on this machine."""
    group = f"voc-raw-rate-{uuid.uuid4().hex[:8]}"
    with BatchConsumer(bootstrap, [topic], group, max_records=10_000) as consumer:
        until = consumer.end_offsets()
        deadline = time.monotonic() + timeout_s
        t0 = time.monotonic()
        n = 0
        for batch in consumer.read_batches(until=until):
            n += len(batch.records)
            if time.monotonic() > deadline:
                break
        seconds = time.monotonic() - t0
    return ConsumeRate(n, round(seconds, 3), round(n / seconds, 1) if seconds > 0 else 0.0)


def raw_consume_rate(bootstrap: str, topic: str) -> float:
    """Events per second of `raw_consume`."""
    return raw_consume(bootstrap, topic).events_per_s


def _to_kafka_offsets(offsets: Mapping[TP, int]) -> dict[TopicPartition, OffsetAndMetadata]:
    return {TopicPartition(t, p): OffsetAndMetadata(off, "", -1) for (t, p), off in offsets.items()}
