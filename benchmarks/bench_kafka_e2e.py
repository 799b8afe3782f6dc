"""Kafka -> Beam (Prism, streaming) -> DuckDB, against the raw kafka-python
consume rate of the same topics, measured in the same run on the same broker.

Prints: {"name": "kafka_e2e", "events": N, "events_per_s": ..., "raw_consume_per_s": ...,
"ratio": ..., "pipeline_seconds": ...}
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

from voc.kafka import broker
from voc.kafka.consume import BatchConsumer
from voc.kafka.produce import produce_path
from voc.kafka.topics import INPUT_TOPICS, ensure_topics
from voc.pipeline.job import run_streaming
from voc.pipeline.kafka_source import KafkaReadConfig
from voc.pipeline.options import VocOptions
from voc.pipeline.runners import ensure_prism, prism_options
from voc.simulate import simulate

DAYS, SEED, SCALE = 3, 21, 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_consume_all(bootstrap: str) -> tuple[int, float]:
    """Every input topic from the beginning to its end, doing nothing with the records."""
    with BatchConsumer(
        bootstrap, INPUT_TOPICS, f"raw-{uuid.uuid4().hex[:8]}", max_records=10_000
    ) as consumer:
        until = consumer.end_offsets()
        t0 = time.perf_counter()
        n = sum(len(b.records) for b in consumer.read_batches(until=until))
        return n, time.perf_counter() - t0


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    prism = ensure_prism()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "kafka"
        home.mkdir()
        (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
        info = broker.start(home, port=free_port(), controller_port=free_port(), timeout_s=120)
        try:
            ensure_topics(info.bootstrap)
            simulate(tmp / "streams", days=DAYS, seed=SEED, scale=SCALE)
            events = 0
            for f in sorted((tmp / "streams").glob("*.jsonl")):
                events += produce_path(info.bootstrap, f).produced
            log(f"produced {events:,} records")
            n, raw_s = raw_consume_all(info.bootstrap)
            log(f"raw consume: {n:,} in {raw_s:.2f} s")
            opts = VocOptions.from_dictionary(
                {**prism_options(prism), "warehouse": str(tmp / "wh.duckdb")}
            )
            config = KafkaReadConfig(
                bootstrap=info.bootstrap,
                group_id="bench",
                streams=tuple(t.removeprefix("voc.") for t in INPUT_TOPICS),
                bounded=True,
            )
            t0 = time.perf_counter()
            run_streaming(opts, config, publish=False)
            pipe_s = time.perf_counter() - t0
            log(f"pipeline: {events:,} in {pipe_s:.1f} s")
        finally:
            broker.stop(home)
    print(
        json.dumps(
            {
                "name": "kafka_e2e",
                "events": events,
                "events_per_s": round(events / pipe_s),
                "raw_consume_per_s": round(n / raw_s),
                "ratio": round((events / pipe_s) / (n / raw_s), 4),
                "pipeline_seconds": round(pipe_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
