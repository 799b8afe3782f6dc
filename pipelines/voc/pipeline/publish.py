"""PublishToKafka: alerts and dead letters (and optionally tagged contacts) to
their output topics, keyed by their id. At-least-once: a replay after a
restart may publish a record again with the same key; consumers dedupe by key
(or read a compacted topic)."""

from __future__ import annotations

import apache_beam as beam
import orjson
from apache_beam.metrics import Metrics


class PublishFn(beam.DoFn):
    def __init__(self, bootstrap: str, topic: str, key_field: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.key_field = key_field
        self.published = Metrics.counter("publish", topic)

    def setup(self) -> None:
        from kafka import KafkaProducer

        from voc.kafka.clients import CLIENT_ID, short_timeouts

        self.producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=CLIENT_ID,
            acks="all",
            linger_ms=20,
            **short_timeouts(10),
        )

    def process(self, row: dict):
        self.producer.send(
            self.topic, key=str(row[self.key_field]).encode(), value=orjson.dumps(row)
        )
        self.published.inc()

    def finish_bundle(self) -> None:
        # The bundle is not done until the broker has the records.
        self.producer.flush()

    def teardown(self) -> None:
        self.producer.close()


class PublishToKafka(beam.PTransform):
    """dict rows -> nothing; each row published to `topic` keyed by `key_field`."""

    def __init__(self, bootstrap: str, topic: str, key_field: str) -> None:
        super().__init__()
        self.bootstrap, self.topic, self.key_field = bootstrap, topic, key_field

    def expand(self, rows):
        return rows | "Publish" >> beam.ParDo(PublishFn(self.bootstrap, self.topic, self.key_field))
