"""The project's Kafka topics: one per input stream, plus the pipeline's outputs.

    voc.calls, voc.ticket_events, voc.app_events, voc.social_posts   (inputs)
    voc.contacts.tagged, voc.alerts, voc.dead_letters                (outputs)

Retention: input records carry their event time as the Kafka timestamp, and
Kafka's time retention compares a segment's *newest record timestamp* with the
wall clock. A 7-day `retention.ms` would therefore delete a replay of the
2010-2014 help-desk log (or any seeded simulation dated in the past) at the
broker's next retention check, minutes after it was produced. So topics keep
records by size (`retention_bytes` per partition) and time retention is off
unless `retention_ms` is set, which suits live data stamped with the present.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kafka.errors

from voc.contracts.streams import Stream
from voc.kafka.clients import admin_client

TOPIC_PREFIX = "voc."
CONTACTS_TAGGED = "voc.contacts.tagged"
ALERTS = "voc.alerts"
DEAD_LETTERS = "voc.dead_letters"
OUTPUT_TOPICS: tuple[str, ...] = (CONTACTS_TAGGED, ALERTS, DEAD_LETTERS)

DAY_MS = 24 * 3600 * 1000
GIB = 1024**3
# Long.MAX_VALUE: accept any timestamp. Replays are years old, and simulations
# may be dated ahead of the wall clock; the broker must not reject either.
_ANY_TIMESTAMP = str(2**63 - 1)


def topic_for(stream: Stream | str) -> str:
    """`calls` -> `voc.calls`."""
    return TOPIC_PREFIX + Stream(stream).value


def stream_of_topic(topic: str) -> Stream | None:
    if not topic.startswith(TOPIC_PREFIX):
        return None
    try:
        return Stream(topic.removeprefix(TOPIC_PREFIX))
    except ValueError:
        return None


INPUT_TOPICS: tuple[str, ...] = tuple(topic_for(s) for s in Stream)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int | None
    retention_bytes: int | None

    def configs(self) -> dict[str, str]:
        return {
            "retention.ms": str(self.retention_ms if self.retention_ms is not None else -1),
            "retention.bytes": str(
                self.retention_bytes if self.retention_bytes is not None else -1
            ),
            "message.timestamp.type": "CreateTime",
            "message.timestamp.before.max.ms": _ANY_TIMESTAMP,
            "message.timestamp.after.max.ms": _ANY_TIMESTAMP,
        }


@dataclass(frozen=True, slots=True)
class TopicsConfig:
    """Partitions and retention of the project's topics.

    Inputs get several partitions so that the pipeline can read them in
    parallel (records are keyed by customer, so one customer's journey stays
    in order within a partition); outputs get one, read by the warehouse sink.
    `overrides` maps a topic name to a partition count for exceptions.
    """

    input_partitions: int = 3
    output_partitions: int = 1
    retention_ms: int | None = None
    retention_bytes: int | None = GIB
    overrides: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TopicsConfig:
        """Build from a plain mapping (e.g. a YAML section); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown topic settings: {', '.join(unknown)}")
        return cls(**values)

    def specs(self) -> list[TopicSpec]:
        def spec(name: str, partitions: int) -> TopicSpec:
            return TopicSpec(
                name=name,
                partitions=self.overrides.get(name, partitions),
                retention_ms=self.retention_ms,
                retention_bytes=self.retention_bytes,
            )

        return [spec(t, self.input_partitions) for t in INPUT_TOPICS] + [
            spec(t, self.output_partitions) for t in OUTPUT_TOPICS
        ]


def ensure_topics(
    bootstrap: str, config: TopicsConfig | None = None, *, timeout_s: float = 10
) -> list[str]:
    """Create the configured topics that are missing; return the names created.
    Existing topics are left as they are (their partitions are not changed)."""
    specs = (config or TopicsConfig()).specs()
    with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        request = {
            s.name: {
                "num_partitions": s.partitions,
                "replication_factor": 1,
                "configs": s.configs(),
            }
            for s in missing
        }
        result = admin.create_topics(request, timeout_ms=int(timeout_s * 1000), raise_errors=False)
        created = []
        for topic in result["topics"]:
            error = kafka.errors.for_code(topic["error_code"])
            if error is kafka.errors.NoError:
                created.append(topic["name"])
            elif error is not kafka.errors.TopicAlreadyExistsError:  # lost a race: fine
                raise RuntimeError(
                    f"creating topic {topic['name']} failed: {error.__name__}: "
                    f"{topic.get('error_message') or ''}"
                )
        if created:
            admin.wait_for_topics(created, timeout_ms=int(timeout_s * 1000))
        return sorted(created)


def describe_topics(bootstrap: str, *, timeout_s: float = 5) -> dict[str, int]:
    """Topic name -> number of partitions, for the project's own (non-internal) topics."""
    with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        return {
            t["name"]: len(t["partitions"])
            for t in admin.describe_topics()
            if not t["name"].startswith("__")
        }
