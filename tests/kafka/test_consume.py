"""voc.kafka.consume: batches per partition, commit-after-read, bounded reads."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaProducer

from voc.kafka.clients import admin_client
from voc.kafka.consume import BatchConsumer, commit, end_offsets, raw_consume, read_batches

pytestmark = pytest.mark.kafka


def new_topic(bootstrap: str, partitions: int) -> str:
    topic = f"voc.test.{uuid.uuid4().hex[:8]}"
    with admin_client(bootstrap) as admin:
        admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}})
        admin.wait_for_topics([topic])
    return topic


@pytest.fixture
def filled_topic(kafka_broker):
    """A fresh 2-partition topic with 30 records (keys k0..k4)."""
    topic = new_topic(kafka_broker.bootstrap, 2)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    for i in range(30):
        producer.send(
            topic, key=f"k{i % 5}".encode(), value=f"v{i}".encode(), timestamp_ms=1000 + i
        )
    producer.flush()
    producer.close()
    yield topic
    with admin_client(kafka_broker.bootstrap) as admin:
        admin.delete_topics([topic])


def _read_all(consumer: BatchConsumer) -> list:
    return [b for b in consumer.read_batches(until=consumer.end_offsets())]


def test_batches_are_per_partition_and_in_offset_order(kafka_broker, filled_topic):
    batches = list(read_batches(kafka_broker.bootstrap, [filled_topic], "g-order", bounded=True))
    values = sorted(r.value for b in batches for r in b.records)
    assert values == sorted(f"v{i}".encode() for i in range(30))
    for b in batches:
        offsets = [r.offset for r in b.records]
        assert offsets == sorted(offsets) and b.next_offset == offsets[-1] + 1
        assert len({r.key for r in b.records}) <= 5


def test_records_come_again_until_committed(kafka_broker, filled_topic):
    bootstrap, group = kafka_broker.bootstrap, f"g-{uuid.uuid4().hex[:6]}"
    # GIVEN a consumer that reads everything but does not commit
    with BatchConsumer(bootstrap, [filled_topic], group) as c:
        first = _read_all(c)
    assert sum(len(b.records) for b in first) == 30
    # WHEN the group is opened again
    with BatchConsumer(bootstrap, [filled_topic], group) as c:
        again = _read_all(c)
        # THEN the same records come again
        assert sum(len(b.records) for b in again) == 30
        # WHEN it commits what it read
        c.commit({(b.topic, b.partition): b.next_offset for b in again})
    # THEN a new consumer of the group starts after them
    with BatchConsumer(bootstrap, [filled_topic], group) as c:
        assert _read_all(c) == []
        assert c.committed() == c.end_offsets()


def test_commit_from_another_client_and_partial_commit(kafka_broker, filled_topic):
    bootstrap, group = kafka_broker.bootstrap, f"g-{uuid.uuid4().hex[:6]}"
    ends = end_offsets(bootstrap, [filled_topic])
    # GIVEN partition 0 committed to its end and partition 1 to offset 1,
    # by a short-lived client (as a finalised checkpoint would)
    commit(bootstrap, group, {(filled_topic, 0): ends[(filled_topic, 0)], (filled_topic, 1): 1})
    # THEN only partition 1's records from offset 1 on are read
    batches = list(read_batches(bootstrap, [filled_topic], group, bounded=True))
    assert {b.partition for b in batches} == {1}
    assert sum(len(b.records) for b in batches) == ends[(filled_topic, 1)] - 1
    assert min(r.offset for b in batches for r in b.records) == 1


def test_bounded_read_ignores_records_produced_after_start(kafka_broker, filled_topic):
    bootstrap = kafka_broker.bootstrap
    with BatchConsumer(bootstrap, [filled_topic], "g-bounded", max_records=4) as c:
        until = c.end_offsets()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        for _i in range(10):
            producer.send(filled_topic, key=b"late", value=b"late")
        producer.flush()
        producer.close()
        batches = list(c.read_batches(until=until))
    assert all(len(b.records) <= 4 for b in batches)
    assert sum(len(b.records) for b in batches) == 30
    assert b"late" not in {r.value for b in batches for r in b.records}


def test_raw_consume_reads_the_whole_topic(kafka_broker, filled_topic):
    rate = raw_consume(kafka_broker.bootstrap, filled_topic)
    assert rate.records == 30 and rate.events_per_s > 0


def test_missing_topic_is_a_clear_error(kafka_broker):
    with pytest.raises(ValueError, match="does not exist"):
        BatchConsumer(kafka_broker.bootstrap, ["voc.nope"], "g", timeout_s=1)


def test_a_reader_is_live_only_once_a_poll_reaches_the_partition_end(kafka_broker):
    # GIVEN a partition holding 50 records, read at most 20 a poll
    from voc.pipeline.kafka_source import KafkaPartitionReader, KafkaReadConfig

    topic = new_topic(kafka_broker.bootstrap, 1)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    for i in range(50):
        producer.send(topic, value=b"{}", timestamp_ms=1000 + i)
    producer.flush()
    config = KafkaReadConfig(
        kafka_broker.bootstrap, f"g-{uuid.uuid4().hex[:6]}", ("calls",), max_records=20
    )
    reader = KafkaPartitionReader(config, topic, 0, start=0)
    try:
        # WHEN it reads poll by poll
        live = []
        deadline = time.monotonic() + 30
        while not live or live[-1][0] < 49:
            assert time.monotonic() < deadline
            if reader.advance():
                live.append((reader.get_current().positions[-1], reader.live))
        # THEN it is behind (a backlog: long bundles) until the poll that
        # reaches the end, then live (short bundles)
        assert live[-1] == (49, True)
        assert all(not is_live for _, is_live in live[:-1]) and len(live) >= 3
        # AND a record produced later is read live
        producer.send(topic, value=b"{}", timestamp_ms=2000)
        producer.flush()
        deadline = time.monotonic() + 30
        while not reader.advance():
            assert time.monotonic() < deadline
        assert reader.get_current().positions == [50] and reader.live
    finally:
        reader.close()
        producer.close()
        with admin_client(kafka_broker.bootstrap) as admin:
            admin.delete_topics([topic])
