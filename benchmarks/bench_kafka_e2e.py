"""Kafka -> Beam (Prism, streaming) -> DuckDB, against the raw kafka-python
consume rate of the same topics (the median of three reads), measured in the
same run on the same broker.

The pipeline runs twice: first with a consumer group already at the end of
every partition and an empty warehouse, which is the fixed cost of a run
(starting Prism and the job, shutting down); then over every record. So

    events_per_s = events / (full run - empty run)

is the steady rate of a job that keeps running, which is what the raw consume
rate is compared with; `events_per_s_with_startup` counts the fixed cost in.

Both also report the CPU seconds they used per 1,000 events (user + system,
this process's threads - the in-process SDK worker included - and, for the
pipeline, the processes it starts: the Prism runner and the store loader;
the pipeline's figure is full run minus empty run). On a machine other
sessions load, wall time stretches with their work; CPU seconds are what the
job itself costs.

Prints: {"name": "kafka_e2e", "events": N, "events_per_s": ..., "raw_consume_per_s": ...,
"ratio": ..., "events_per_s_with_startup": ..., "pipeline_seconds": ..., "startup_seconds": ...,
"cpu_s_per_1k_events": ..., "raw_consume_cpu_s_per_1k_events": ..., "load_average": ...}

Usage: python benchmarks/bench_kafka_e2e.py [--days 7] [--scale 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

from voc.kafka import broker
from voc.kafka.consume import BatchConsumer, commit, end_offsets
from voc.kafka.produce import produce_path
from voc.kafka.topics import INPUT_TOPICS, ensure_topics
from voc.pipeline.job import run_streaming
from voc.pipeline.kafka_source import KafkaReadConfig
from voc.pipeline.options import VocOptions
from voc.pipeline.runners import ensure_prism, prism_options
from voc.simulate import simulate

SEED = 21


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CpuMeter:
    """CPU seconds (user + system) of this process and of every process it
    starts in the block (the Prism runner, the store loader), while it runs.
    Children this process has reaped are counted whole (RUSAGE_CHILDREN);
    one still running or not reaped at the end (Prism outlives its job for a
    moment) is counted as last seen, polled every 0.5 s."""

    def __enter__(self) -> CpuMeter:
        self._seen: dict[int, float] = {}
        # Children already running (the Kafka broker) are not the job's.
        self._before = {c.pid for c in psutil.Process().children(recursive=True)}
        self._stop = threading.Event()
        self._start = _own_cpu()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        for child in psutil.Process().children(recursive=True):
            if child.pid in self._before:
                continue
            try:
                t = child.cpu_times()
                self._seen[child.pid] = t.user + t.system
            except psutil.Error:
                pass

    def _watch(self) -> None:
        while True:
            self._poll()
            if self._stop.wait(0.5):
                return

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
        unreaped = 0.0
        for pid, seconds in self._seen.items():
            try:
                psutil.Process(pid).cpu_times()  # running, or a zombie not reaped
                unreaped += seconds
            except psutil.Error:
                pass  # reaped: in RUSAGE_CHILDREN
        self.seconds = _own_cpu() - self._start + unreaped


def _own_cpu() -> float:
    """This process and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def raw_consume_all(bootstrap: str) -> tuple[int, float, float]:
    """Every input topic from the beginning to its end, doing nothing with the
    records: (records, seconds, CPU seconds)."""
    with BatchConsumer(
        bootstrap, INPUT_TOPICS, f"raw-{uuid.uuid4().hex[:8]}", max_records=10_000
    ) as consumer:
        until = consumer.end_offsets()
        t0, cpu0 = time.perf_counter(), _own_cpu()
        n = sum(len(b.records) for b in consumer.read_batches(until=until))
        return n, time.perf_counter() - t0, _own_cpu() - cpu0


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run_pipeline(prism: Path, warehouse: Path, bootstrap: str, group: str) -> tuple[float, float]:
    """(seconds, CPU seconds) of one run of the job."""
    opts = VocOptions.from_dictionary({**prism_options(prism), "warehouse": str(warehouse)})
    config = KafkaReadConfig(
        bootstrap=bootstrap,
        group_id=group,
        streams=tuple(t.removeprefix("voc.") for t in INPUT_TOPICS),
        bounded=True,
    )
    t0 = time.perf_counter()
    with CpuMeter() as cpu:
        run_streaming(opts, config, publish=False)
    return time.perf_counter() - t0, cpu.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    parser.add_argument("--scale", type=float, default=3.0, help="simulator scale (default 3)")
    args = parser.parse_args()
    prism = ensure_prism()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "kafka"
        home.mkdir()
        (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
        info = broker.start(home, port=free_port(), controller_port=free_port(), timeout_s=120)
        try:
            ensure_topics(info.bootstrap)
            simulate(tmp / "streams", days=args.days, seed=SEED, scale=args.scale)
            events = 0
            for f in sorted((tmp / "streams").glob("*.jsonl")):
                events += produce_path(info.bootstrap, f).produced
            log(f"produced {events:,} records")
            # The baseline varies by +-15% from one read to the next on a
            # shared 2-core machine: the median of three reads is the figure.
            reads = [raw_consume_all(info.bootstrap) for _ in range(3)]
            n, raw_s, raw_cpu = sorted(reads, key=lambda r: r[1])[1]
            times = ", ".join(f"{s:.2f}" for _, s, _ in reads)
            log(f"raw consume: {n:,} in {times} s (median {raw_s:.2f}, CPU {raw_cpu:.2f} s)")
            # A group already at the end and an empty warehouse: a run that
            # starts, finds nothing to read or recover, and stops.
            commit(info.bootstrap, "bench-empty", end_offsets(info.bootstrap, INPUT_TOPICS))
            fixed_s, fixed_cpu = run_pipeline(
                prism, tmp / "empty.duckdb", info.bootstrap, "bench-empty"
            )
            log(f"pipeline with nothing to read: {fixed_s:.1f} s (CPU {fixed_cpu:.1f} s)")
            pipe_s, pipe_cpu = run_pipeline(prism, tmp / "wh.duckdb", info.bootstrap, "bench")
            log(f"pipeline: {events:,} in {pipe_s:.1f} s (CPU {pipe_cpu:.1f} s)")
        finally:
            broker.stop(home)
    steady = events / max(pipe_s - fixed_s, 1e-9)
    raw_rate = n / raw_s
    print(
        json.dumps(
            {
                "name": "kafka_e2e",
                "events": events,
                "events_per_s": round(steady),
                "raw_consume_per_s": round(raw_rate),
                "ratio": round(steady / raw_rate, 4),
                "events_per_s_with_startup": round(events / pipe_s),
                "pipeline_seconds": round(pipe_s, 1),
                "startup_seconds": round(fixed_s, 1),
                "cpu_s_per_1k_events": round((pipe_cpu - fixed_cpu) / events * 1000, 4),
                "raw_consume_cpu_s_per_1k_events": round(raw_cpu / n * 1000, 4),
                # other sessions' load while it ran: wall-time figures move with it
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
