"""The learning loop, measured (voc.evaluation.learning_loop): tagging accuracy
on a held-out split as an analyst labels 0 ... 1,600 contacts, and the gain per
100 labels.

Prints three JSON lines:
{"name": "learning_loop_simulated", "accuracy_all_gain_per_100_labels": ...,
 "accuracy_text_only_gain_per_100_labels": ..., "curve": [...], ...}
    7 simulated days (seed 42); labels on the untagged part of the first 70 %,
    the simulator's truth as the analyst's answer; held out: the last 30 %.
{"name": "learning_loop_real_reviews", "accuracy_all_gain_per_100_labels": ..., "curve": [...]}
    real Chinese reviews (online_shopping_zh), product category as the label,
    2,000 held out.
{"name": "learning_loop_gold_check", "scenario_accuracy_without_labels": ...,
 "scenario_accuracy_with_labels": ...}
    the real gold dev reviews (cx_gold_zh), without and with 1,600 labels from
    the simulation: labels from simulated contacts must not make real text worse.

    python benchmarks/bench_learning_loop.py [--days N] [--seed S]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from voc.evaluation.learning_loop import (  # noqa: E402
    gold_check,
    real_reviews_loop,
    simulated_loop,
)
from voc.simulate import simulate  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("VOC_DATA", DATA)))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sim = Path(tmp) / "sim"
        started = time.perf_counter()
        print(f"simulating {args.days} days (seed {args.seed}) ...", file=sys.stderr)
        simulate(sim, days=args.days, seed=args.seed, malformed_rate=0.0)
        out = simulated_loop(sim)
        print(
            json.dumps(
                {
                    "name": "learning_loop_simulated",
                    "days": args.days,
                    "seed": args.seed,
                    **out,
                    "seconds": round(time.perf_counter() - started, 1),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
        reviews = args.data / "online_shopping_zh" / "online_shopping_10_cats.csv"
        if reviews.exists():
            started = time.perf_counter()
            out = real_reviews_loop(reviews)
            print(
                json.dumps(
                    {
                        "name": "learning_loop_real_reviews",
                        **out,
                        "seconds": round(time.perf_counter() - started, 1),
                    }
                ),
                flush=True,
            )
        else:
            print(f"skipped real reviews: {reviews} not found", file=sys.stderr)
        gold = args.data / "cx_gold_zh" / "dev.csv"
        if gold.exists():
            print(
                json.dumps({"name": "learning_loop_gold_check", **gold_check(gold, sim, 1600)}),
                flush=True,
            )
        else:
            print(f"skipped gold check: {gold} not found", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
