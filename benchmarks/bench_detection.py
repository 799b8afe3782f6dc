"""Breakpoint detection on 10 seeds x 7 days of simulated streams with every kind
of break planted (barely visible to obvious) and decoys that must not alert
(voc.evaluation.detection, the same engine the streaming job keeps in Beam state).

Prints one JSON line:
{"name": "detection", "recall": ..., "precision": ..., "ttd_p50_min": ...,
 "ttd_p95_min": ..., "decoy_alerts": ..., "by_kind": {kind: {same keys}},
 "by_band": {small|medium|large|case: {...}}, ...}

    python benchmarks/bench_detection.py [--seeds 1-10] [--days 7]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from voc.evaluation.detection import evaluate_detection


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        report = evaluate_detection(
            seeds,
            args.days,
            Path(tmp),
            progress=lambda s, r: print(f"seed {s}: recall {r['recall']}", file=sys.stderr),
        )
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"name": "detection", **report}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
