"""Kafka -> Beam (Prism, streaming) -> raw store -> DuckDB with two worker
processes (two instances of the job in one consumer group, each reading half
of the partitions, both appending to one raw store) against one worker, on
the same broker and the same records, in the same run.

Each run is `voc run --source kafka --bounded --no-publish` as a user starts
it (one process per worker); a run over a group already at the end of every
partition measures the fixed cost (start, recovery, shutdown), so

    events_per_s = events / (full run - empty run)

is the steady rate, as in bench_kafka_e2e.py.

Prints: {"name": "kafka_e2e_two_workers", "events": N, "events_per_s": ...,
"one_worker_events_per_s": ..., "ratio_to_one_worker": ..., "seconds": ...,
"one_worker_seconds": ..., "startup_seconds": ..., "load_average": ...}

Usage: python benchmarks/bench_kafka_two_workers.py [--days 7] [--scale 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from voc.kafka import broker
from voc.kafka.consume import commit, end_offsets
from voc.kafka.produce import produce_path
from voc.kafka.topics import INPUT_TOPICS, ensure_topics
from voc.pipeline.runners import ensure_prism
from voc.simulate import simulate

SEED = 21


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run_workers(bootstrap: str, warehouse: Path, group: str, workers: int) -> float:
    """Start `workers` job instances at once; seconds until the last one ends."""
    cmd = [
        sys.executable, "-m", "voc.cli", "run", "--source", "kafka", "--bootstrap", bootstrap,
        "--group", group, "--warehouse", str(warehouse), "--bounded", "--no-publish", "--json",
        "--instances", str(workers),
    ]  # fmt: skip
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*cmd, "--instance", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker failed:\n{err.decode()[-3000:]}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    parser.add_argument("--scale", type=float, default=3.0, help="simulator scale (default 3)")
    args = parser.parse_args()
    ensure_prism()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "kafka"
        home.mkdir()
        (home / "lib").symlink_to(broker.ensure_jars(broker.default_home()))
        info = broker.start(home, port=free_port(), controller_port=free_port(), timeout_s=120)
        try:
            ensure_topics(info.bootstrap)
            simulate(tmp / "streams", days=args.days, seed=SEED, scale=args.scale)
            events = sum(
                produce_path(info.bootstrap, f).produced
                for f in sorted((tmp / "streams").glob("*.jsonl"))
            )
            log(f"produced {events:,} records")
            ends = end_offsets(info.bootstrap, INPUT_TOPICS)
            times = {}
            for workers in (1, 2):
                empty = f"bench-empty-{workers}"
                commit(info.bootstrap, empty, ends)
                fixed = run_workers(info.bootstrap, tmp / f"empty{workers}.duckdb", empty, workers)
                full = run_workers(
                    info.bootstrap, tmp / f"wh{workers}.duckdb", f"bench-{workers}", workers
                )
                times[workers] = (full, fixed)
                log(f"{workers} worker(s): {full:.1f} s, of which fixed {fixed:.1f} s")
        finally:
            broker.stop(home)
    rate = {w: events / max(full - fixed, 1e-9) for w, (full, fixed) in times.items()}
    print(
        json.dumps(
            {
                "name": "kafka_e2e_two_workers",
                "events": events,
                "events_per_s": round(rate[2]),
                "one_worker_events_per_s": round(rate[1]),
                "ratio_to_one_worker": round(rate[2] / rate[1], 3),
                "seconds": round(times[2][0], 1),
                "one_worker_seconds": round(times[1][0], 1),
                "startup_seconds": round(times[2][1], 1),
                # other sessions' load while it ran: wall-time figures move with it
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
