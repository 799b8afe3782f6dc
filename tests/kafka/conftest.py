"""A real Kafka broker for the tests marked `kafka`.

One broker per test session, in a temporary home on free ports, started and
stopped through voc.kafka.broker (the jars come from the project's cache,
<repo>/.voc/kafka/lib, fetched by Maven once). With VOC_KAFKA_BOOTSTRAP set,
the tests use that broker instead and skip the ones that stop and restart it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from voc.kafka import broker
from voc.kafka.topics import ensure_topics


@dataclass(frozen=True)
class KafkaUnderTest:
    bootstrap: str
    home: Path | None  # None: an outside broker we must not stop

    @property
    def owned(self) -> bool:
        return self.home is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaUnderTest]:
    outside = os.environ.get("VOC_KAFKA_BOOTSTRAP")
    if outside:
        ensure_topics(outside)
        yield KafkaUnderTest(outside, None)
        return
    home = tmp_path_factory.mktemp("kafka-home")
    # Share the project's jar cache instead of copying 45 jars per test run.
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    info = broker.start(home, port=_free_port(), controller_port=_free_port(), timeout_s=120)
    try:
        ensure_topics(info.bootstrap)
        yield KafkaUnderTest(info.bootstrap, home)
    finally:
        broker.stop(home)


@pytest.fixture
def own_broker(kafka_broker: KafkaUnderTest) -> KafkaUnderTest:
    if not kafka_broker.owned:
        pytest.skip("uses an outside broker (VOC_KAFKA_BOOTSTRAP): not stopping it")
    return kafka_broker


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[str]:
    """A fresh broker with empty topics, for one test; its bootstrap address."""
    home = tmp_path / "own-kafka"
    home.mkdir()
    (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
    info = broker.start(home, port=_free_port(), controller_port=_free_port(), timeout_s=120)
    try:
        ensure_topics(info.bootstrap)
        yield info.bootstrap
    finally:
        broker.stop(home)
