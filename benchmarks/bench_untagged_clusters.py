"""Are the untagged contacts' clusters about the problem? Purity against the
simulator's true scenarios (and their families, domain.stage/category) of the
contacts the default tagger leaves untagged, clustering the customer's own
words (voc untagged) against clustering the whole text (the old way).

Prints one JSON line:
{"name": "untagged_cluster_purity", "purity_words_kdefault": ..., "purity_whole_text_kdefault": ...,
 "family_purity_words_kdefault": ..., "purity_words_k200": ..., ...}

    python benchmarks/bench_untagged_clusters.py [--days N] [--seed S]
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

from voc.evaluation.learning_loop import cluster_purity  # noqa: E402
from voc.simulate import simulate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sim = Path(tmp) / "sim"
        print(f"simulating {args.days} days (seed {args.seed}) ...", file=sys.stderr)
        simulate(sim, days=args.days, seed=args.seed, malformed_rate=0.0)
        out = cluster_purity(sim)
    print(
        json.dumps(
            {
                "name": "untagged_cluster_purity",
                "days": args.days,
                "seed": args.seed,
                **out,
                "seconds": round(time.perf_counter() - started, 1),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
