"""The taggers on the default catalog's scenarios, on simulated contacts they have
never seen (voc.evaluation.catalog_holdout): simulate, train the text model on the
first 70% of the period, tag the last 30% with the hybrid tagger, the text model
alone and the rule tagger alone. Everything runs on one thread.

Prints one JSON line:
{"name": "tagging_catalog_holdout", "macro_f1": <hybrid>, "accuracy": ...,
 "coverage": ..., "oos_abstained": ..., "texts_per_s": ..., "model_only_macro_f1": ...,
 "rules_only_macro_f1": ..., "n_train": ..., "n_holdout": ..., "scenarios_in_holdout": ...,
 ...}

    python benchmarks/bench_tagging_catalog.py [--days N] [--scale X] [--seed S] [--random]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from voc.evaluation.catalog_holdout import (  # noqa: E402
    BENCH_DAYS,
    BENCH_SCALE,
    evaluate_catalog_holdout,
)

HEADLINE = (
    "macro_f1",
    "accuracy",
    "coverage",
    "oos_abstained",
    "texts_per_s",
    "model_only_macro_f1",
    "rules_only_macro_f1",
    "n_train",
    "n_holdout",
    "scenarios_in_holdout",
    "scenarios_in_holdout_unseen_in_train",
    "catalog_scenarios",
    "days",
    "scale",
    "seed",
    "seconds_train",
    "seconds_total",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=BENCH_DAYS)
    parser.add_argument("--scale", type=float, default=BENCH_SCALE)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--random", action="store_true", help="Also score a random split.")
    args = parser.parse_args(argv)
    print(
        f"[bench] tagging_catalog_holdout: days={args.days} scale={args.scale}",
        file=sys.stderr,
        flush=True,
    )
    report = evaluate_catalog_holdout(
        days=args.days, seed=args.seed, scale=args.scale, random_split_too=args.random
    )
    line: dict = {"name": "tagging_catalog_holdout"}
    line.update({k: report[k] for k in HEADLINE})
    line["texts_per_s_model"] = report["model"]["texts_per_s"]
    line["texts_per_s_rules"] = report["rules"]["texts_per_s"]
    if args.random:
        line["random_macro_f1"] = report["random_macro_f1"]
    print(
        json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in line.items()}),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
