"""voc.kafka.topics: names, configuration and idempotent creation."""

from __future__ import annotations

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from voc.contracts.streams import Stream
from voc.kafka.clients import admin_client
from voc.kafka.topics import (
    INPUT_TOPICS,
    OUTPUT_TOPICS,
    TopicsConfig,
    describe_topics,
    ensure_topics,
    stream_of_topic,
    topic_for,
)


def test_one_topic_per_input_stream_and_back():
    assert INPUT_TOPICS == ("voc.calls", "voc.ticket_events", "voc.app_events", "voc.social_posts")
    assert OUTPUT_TOPICS == ("voc.contacts.tagged", "voc.alerts", "voc.dead_letters")
    for s in Stream:
        assert stream_of_topic(topic_for(s)) is s
    assert stream_of_topic("voc.alerts") is None


def test_config_from_dict_with_overrides():
    config = TopicsConfig.from_dict(
        {"input_partitions": 6, "retention_ms": 86_400_000, "overrides": {"voc.alerts": 2}}
    )
    specs = {s.name: s for s in config.specs()}
    assert specs["voc.calls"].partitions == 6
    assert specs["voc.alerts"].partitions == 2
    assert specs["voc.dead_letters"].partitions == 1
    assert specs["voc.calls"].configs()["retention.ms"] == "86400000"
    with pytest.raises(ValueError, match="unknown topic settings: partitions"):
        TopicsConfig.from_dict({"partitions": 3})


def test_default_retention_keeps_old_event_times():
    # Records are stamped with their event time: time retention would delete a
    # replay of 2012 data at once, so the default retains by size only.
    configs = TopicsConfig().specs()[0].configs()
    assert configs["retention.ms"] == "-1"
    assert configs["retention.bytes"] == str(1024**3)


@pytest.mark.kafka
def test_topics_exist_with_configured_partitions(kafka_broker):
    # GIVEN the broker after ensure_topics (done by the fixture)
    # WHEN ensuring again
    created = ensure_topics(kafka_broker.bootstrap)
    # THEN nothing new is created, and partitions are as configured
    assert created == []
    partitions = describe_topics(kafka_broker.bootstrap)
    for topic in INPUT_TOPICS:
        assert partitions[topic] == 3
    for topic in OUTPUT_TOPICS:
        assert partitions[topic] == 1


@pytest.mark.kafka
def test_topic_accepts_any_timestamp(kafka_broker):
    with admin_client(kafka_broker.bootstrap) as admin:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "voc.calls")])
    configs = described["topic"]["voc.calls"]
    assert configs["message.timestamp.type"]["value"] == "CreateTime"
    assert configs["message.timestamp.before.max.ms"]["value"] == str(2**63 - 1)
