"""The cost of making raw-store writes durable against a power cut: writing
range files of one Kafka read each (2,000 simulated app events, the reader's
largest poll) with and without fsync of the file and of its folder.

Prints: {"name": "store_fsync", "files": N, "rows_per_file": R,
"ms_per_file_fsync": ..., "ms_per_file_no_fsync": ..., "fsync_ms_per_file": ...,
"rows_per_s_fsync": ..., "rows_per_s_no_fsync": ...}

Usage: python benchmarks/bench_store_fsync.py [--files 200] [--rows 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from voc.contracts.streams import Stream
from voc.evaluation.detection import read_stream
from voc.simulate import simulate
from voc.warehouse.store import RawStore


def write_files(store: RawStore, rows: list[dict], files: int) -> float:
    t0 = time.perf_counter()
    for i in range(files):
        first = i * len(rows)
        store.write_range(
            "app_events",
            "voc.app_events/0/",
            first,
            first + len(rows) - 1,
            rows,
            list(range(first, first + len(rows))),
        )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--rows", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="voc-bench-fsync-") as tmp:
        streams = Path(tmp) / "streams"
        simulate(streams, days=1, seed=3, scale=1.0)
        rows = read_stream(streams / "app_events.jsonl", Stream.APP_EVENTS)[: args.rows]
        # Alternate, so load on the machine hits both alike.
        timings = {True: 0.0, False: 0.0}
        for round_ in range(4):
            for fsync in (True, False):
                store = RawStore(Path(tmp) / f"store-{fsync}-{round_}", fsync=fsync)
                timings[fsync] += write_files(store, rows, args.files // 4)
        n = (args.files // 4) * 4
        ms_on, ms_off = timings[True] / n * 1000, timings[False] / n * 1000
        print(
            json.dumps(
                {
                    "name": "store_fsync",
                    "files": n,
                    "rows_per_file": len(rows),
                    "ms_per_file_fsync": round(ms_on, 2),
                    "ms_per_file_no_fsync": round(ms_off, 2),
                    "fsync_ms_per_file": round(ms_on - ms_off, 2),
                    "rows_per_s_fsync": round(len(rows) / ms_on * 1000),
                    "rows_per_s_no_fsync": round(len(rows) / ms_off * 1000),
                }
            )
        )


if __name__ == "__main__":
    main()
