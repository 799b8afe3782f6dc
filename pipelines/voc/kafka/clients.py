"""kafka-python clients with short timeouts.

kafka-python 3.x blocks for `bootstrap_timeout_ms` (30 s by default) when no
broker answers; a CLI or a test should fail in seconds and say why instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import kafka.errors
from kafka import KafkaAdminClient

CLIENT_ID = "voc-loop"
_UNAVAILABLE = (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError)


class BrokerUnavailable(RuntimeError):
    """No Kafka broker answered at the bootstrap address in time."""


def short_timeouts(timeout_s: float) -> dict[str, Any]:
    ms = max(int(timeout_s * 1000), 500)
    return {"bootstrap_timeout_ms": ms, "request_timeout_ms": max(ms, 5000)}


@contextlib.contextmanager
def admin_client(bootstrap: str, *, timeout_s: float = 5) -> Iterator[KafkaAdminClient]:
    """An admin client, closed on exit; connection failures become BrokerUnavailable."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id=CLIENT_ID, **short_timeouts(timeout_s)
        )
    except _UNAVAILABLE as exc:
        raise BrokerUnavailable(f"no Kafka broker answered at {bootstrap}: {exc}") from None
    try:
        yield admin
    except _UNAVAILABLE as exc:
        raise BrokerUnavailable(
            f"the Kafka broker at {bootstrap} stopped answering: {exc}"
        ) from exc
    finally:
        admin.close()


class PartitionOffsets:
    """Every partition's offsets for a set of topics, through one consumer kept
    for the run (`close`): the first offset a reader starts from (with a group,
    its committed offset where it has one, never below the earliest), and the
    end offset. `read` raises on a broker outage and drops the consumer, so
    the next call connects afresh; what an outage means is the caller's."""

    def __init__(self, bootstrap: str, topics: list[str], group_id: str | None = None) -> None:
        self.bootstrap, self.topics, self.group_id = bootstrap, topics, group_id
        self._consumer = None

    def read(self) -> dict[tuple[str, int], tuple[int, int]]:
        from kafka import KafkaConsumer, TopicPartition

        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    group_id=self.group_id,
                    enable_auto_commit=False,
                    **short_timeouts(5),
                )
            c = self._consumer
            tps = [
                TopicPartition(t, p)
                for t in self.topics
                for p in sorted(c.partitions_for_topic(t) or ())
            ]
            ends, begins = c.end_offsets(tps), c.beginning_offsets(tps)
            floors = {tp: c.committed(tp) for tp in tps} if self.group_id else {}
        except Exception:
            self.close()
            raise
        return {
            (tp.topic, tp.partition): (max(floors.get(tp) or 0, begins[tp]), ends[tp]) for tp in tps
        }

    def close(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                self._consumer.close()
            self._consumer = None
