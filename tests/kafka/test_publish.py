"""PublishFn on a real broker: a record the broker refuses, or one too big to
send, becomes a dead letter of kind publish_failed after the retries; the
others are on the topic; nothing raises."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from voc.contracts.validate import validator
from voc.kafka.clients import admin_client
from voc.pipeline.publish import PublishFn

pytestmark = pytest.mark.kafka


def run_bundle(fn: PublishFn, rows: list[dict]) -> list[dict]:
    """What a runner does with one bundle: process each row, then finish it."""
    fn.setup()
    try:
        fn.start_bundle()
        out = [x for row in rows for x in fn.process(row) or ()]
        out += [wv.value for wv in fn.finish_bundle() or ()]
    finally:
        fn.teardown()
    return out


def test_refused_and_oversized_records_become_dead_letters(kafka_broker):
    # GIVEN a topic whose broker refuses messages over 2,000 bytes
    topic = "voc.test.small-messages"
    with admin_client(kafka_broker.bootstrap) as admin:
        if topic not in admin.list_topics():
            admin.create_topics(
                [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "2000"})]
            )
    fn = PublishFn(
        kafka_broker.bootstrap, topic, "alert_id", max_message_bytes=50_000, backoff_s=0.05
    )
    rows = [
        {"alert_id": "a-small", "note": "x" * 10},
        {"alert_id": "a-refused", "note": "y" * 5_000},  # the broker says no
        {"alert_id": "a-huge", "note": "z" * 60_000},  # over our own limit: never sent
    ]
    # WHEN one bundle publishes them
    failed = run_bundle(fn, rows)
    # THEN the two that cannot be published are dead letters that say why
    assert sorted(d["source"] for d in failed) == [f"{topic}:key=a-huge", f"{topic}:key=a-refused"]
    for letter in failed:
        assert letter["kind"] == "publish_failed"
        assert validator("dead_letter").is_valid(letter)
        assert len(letter["raw_text"].encode()) <= 2048
    refused = next(d for d in failed if d["source"].endswith("a-refused"))
    assert "3 attempts" in refused["reason"] and "TooLarge" in refused["reason"]
    # AND the small one is on the topic, once
    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    keys = [m.key for m in consumer]
    consumer.close()
    assert keys.count(b"a-small") >= 1 and b"a-refused" not in keys
