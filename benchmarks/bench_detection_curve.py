"""Speed vs false alarms of the rate detectors' CUSUM: recall, precision and time
to detect of the rate kinds for several CUSUM bars, on the same simulated streams
(voc.evaluation.detection: each seed is simulated and tagged once, then the
engine runs once per bar). DECISIONLOG "Breakpoints" holds the measured curve.

Prints one JSON line per bar:
{"name": "detection_curve", "cusum_h": ..., "cusum_ratio": ..., "by_kind": {kind:
 {recall, precision, alerts, ttd_p50_min, ttd_p95_min, decoy_alerts}},
 "by_band": {small|medium|large: recall}}

    python benchmarks/bench_detection_curve.py [--seeds 4-8] [--days 7] [--h inf,12,9,6]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

from voc.catalog import load_catalog
from voc.detect.engine import EngineParams
from voc.detect.rate import RateParams
from voc.evaluation.detection import (
    SEED_STARTS,
    read_truth,
    run_engine,
    score,
    summarise,
    tagged_contacts,
)
from voc.simulate import simulate

RATE_KINDS = ("contact_spike", "step_failure", "social_surge")


def params_for(h: float, ratio: float) -> EngineParams:
    """The engine's defaults with the CUSUM bar of failures and social posts at h."""
    base = EngineParams()
    return EngineParams(
        contact=base.contact,
        failure=RateParams(cusum_h=h, cusum_ratio=ratio),
        social=RateParams(
            min_count=base.social.min_count,
            min_count_long=base.social.min_count_long,
            cusum_h=h,
            cusum_ratio=ratio,
        ),
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="4-8")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--h", default="inf,12,9,6")
    ap.add_argument("--ratio", type=float, default=3.0)
    args = ap.parse_args()
    a, _, b = args.seeds.partition("-")
    seeds = list(range(int(a), int(b or a) + 1))
    bars = [math.inf if x == "inf" else float(x) for x in args.h.split(",")]
    catalog = load_catalog()
    runs: dict[float, tuple[list, list]] = {h: ([], []) for h in bars}
    with tempfile.TemporaryDirectory(prefix="bench-detection-curve-") as tmp:
        for seed in seeds:
            out = Path(tmp) / f"seed-{seed}"
            start = SEED_STARTS[seed % len(SEED_STARTS)]
            simulate(out, days=args.days, seed=seed, start=start, catalog=catalog)
            contacts = tagged_contacts(out)
            truth = read_truth(out)
            for h in bars:
                raised = run_engine(out, catalog, params_for(h, args.ratio), contacts=contacts)
                scored = score(raised, truth)
                runs[h][0].extend(scored["incidents"])
                runs[h][1].extend(scored["alerts"])
            print(f"seed {seed} done", file=sys.stderr)
    for h in bars:
        report = summarise(*runs[h])
        keys = ("recall", "precision", "alerts", "ttd_p50_min", "ttd_p95_min", "decoy_alerts")
        line = {
            "name": "detection_curve",
            "seeds": args.seeds,
            "cusum_h": None if math.isinf(h) else h,
            "cusum_ratio": args.ratio,
            "by_kind": {k: {x: report["by_kind"][k][x] for x in keys} for k in RATE_KINDS},
            "by_band": {b: report["by_band"][b]["recall"] for b in ("small", "medium", "large")},
        }
        print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
