"""The embedded pipeline's throughput on simulated streams, against the plain
Python parse rate of the same files measured in the same run.

Prints: {"name": "pipeline_embedded", "events": N, "events_per_s": ...,
"raw_parse_per_s": ..., "ratio": ...}
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import orjson

from voc.contracts.streams import INPUT_STREAMS
from voc.pipeline.job import embedded_options, run
from voc.simulate import simulate

DAYS, SEED = 7, 7


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        streams = Path(tmp) / "streams"
        simulate(streams, days=DAYS, seed=SEED)
        files = [streams / f"{s}.jsonl" for s in INPUT_STREAMS]
        lines = sum(1 for f in files for _ in f.open("rb"))

        started = time.perf_counter()
        parsed = 0
        for f in files:
            with f.open("rb") as fh:
                for line in fh:
                    try:
                        orjson.loads(line)
                        parsed += 1
                    except orjson.JSONDecodeError:
                        pass
        raw_s = time.perf_counter() - started

        print(f"[bench] pipeline on {lines:,} lines ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        run(embedded_options(input_dir=str(streams), warehouse=str(Path(tmp) / "wh.duckdb")))
        pipe_s = time.perf_counter() - started
    result = {
        "name": "pipeline_embedded",
        "events": lines,
        "seconds": round(pipe_s, 2),
        "events_per_s": round(lines / pipe_s),
        "raw_parse_per_s": round(lines / raw_s),
        "ratio": round((lines / pipe_s) / (lines / raw_s), 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
